import type { RandomUserResponse } from '../transforms/randomuser-types.ts';

/**
 * What the fetch source hands to its sink: one API response, already validated (invalid users quarantined and
 * removed), stamped with a unique fetch time. The envelope's ack is the source's commit: for a seeded run it
 * advances the page cursor; a nack leaves the page to be fetched again on the next start.
 */
export interface FetchedResponse {
  /** The API's JSON with invalid users removed (`info` kept as the API sent it). Written as is, on one line. */
  response: RandomUserResponse;
  /** When the response arrived, epoch ms; unique per process together with `seq` (see FetchStamper). */
  fetchedAtMs: number;
  /** 0..99: order within `fetchedAtMs`. */
  seq: number;
  /** Users in `response.results`. */
  users: number;
  /** The page of a seeded run. */
  page?: number;
  /**
   * Called by a file sink once the data is durable in its hidden temp file, just before the rename. A seeded run
   * records "page written, see this temp file" in its cursor here, so that a crash between the cursor update and
   * the rename is finished on the next start (the rename is redone) instead of fetching the page twice. Sinks
   * without a temp file (stdout) never call it; the ack then advances the cursor.
   */
  beforePublish?: (tempPath: string, finalPath: string) => Promise<void>;
}
