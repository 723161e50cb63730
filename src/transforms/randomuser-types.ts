/**
 * The RandomUser API 1.4 shapes. Every key of a user is optional: `inc`/`exc` drop keys, so code that reads a
 * user must cope with any of them missing. The JSON Schema in `user-schema.ts` is the runtime check of the same.
 */

export interface RandomUser {
  gender?: string;
  name?: { title?: string; first?: string; last?: string };
  location?: {
    street?: { number?: number; name?: string };
    city?: string;
    state?: string;
    country?: string;
    /** A number for most nationalities, a string for CA, GB and NO ("Y3D 4T5", "FX42 7YJ", "0001"). */
    postcode?: number | string;
    /** Strings in the API ("-2.2617"), not numbers. */
    coordinates?: { latitude?: string; longitude?: string };
    timezone?: { offset?: string; description?: string };
  };
  email?: string;
  login?: {
    uuid?: string;
    username?: string;
    password?: string;
    salt?: string;
    md5?: string;
    sha1?: string;
    sha256?: string;
  };
  dob?: { date?: string; age?: number };
  registered?: { date?: string; age?: number };
  phone?: string;
  cell?: string;
  /** `value` is null for IR, NZ, TR and UA. */
  id?: { name?: string; value?: string | null };
  picture?: { large?: string; medium?: string; thumbnail?: string };
  nat?: string;
}

export interface RandomUserInfo {
  seed?: string;
  results?: number;
  page?: number;
  version?: string;
}

export interface RandomUserResponse {
  results: RandomUser[];
  /** Absent with `noinfo`. */
  info?: RandomUserInfo;
}

/** The 21 nationalities API 1.4 knows; one unknown code makes the real API ignore the whole `nat` list. */
export const NATIONALITIES = [
  'AU', 'BR', 'CA', 'CH', 'DE', 'DK', 'ES', 'FI', 'FR', 'GB', 'IE',
  'IN', 'IR', 'MX', 'NL', 'NO', 'NZ', 'RS', 'TR', 'UA', 'US',
] as const;
export type Nationality = (typeof NATIONALITIES)[number];
