/**
 * The tables behind the synthetic RandomUser source: a handful of plausible values per nationality, written by
 * hand (not copied from the service), plus the formats the real API 1.4 uses for ids, phones and postcodes.
 *
 * Pattern strings: `#` is a random digit, `A` a random upper-case letter, anything else is literal.
 * Names written `display|ascii` carry the transliteration the e-mail address uses (Persian names).
 */
import type { Nationality } from '../transforms/randomuser-types.ts';

/** How `id.value` is made: a pattern, or a rule the real service follows for that nationality. */
export type IdRule =
  | { kind: 'pattern'; pattern: string }
  /** DK CPR and NO FN start with the birth date as DDMMYY. */
  | { kind: 'dob'; suffix: string; sep: string }
  /** FR INSEE starts with 1/2 by gender and the birth year and month. */
  | { kind: 'insee' }
  /** The real service's FI HETU is broken: "NaNNA723undefined". Kept, since consumers must survive it. */
  | { kind: 'broken-hetu' }
  /** IR, NZ, TR, UA: `{ name: '', value: null }`. */
  | { kind: 'null' };

export interface NatTable {
  country: string;
  states: readonly string[];
  cities: readonly string[];
  streets: readonly string[];
  male: readonly string[];
  female: readonly string[];
  last: readonly string[];
  idName: string;
  id: IdRule;
  phone: string;
  cell: string;
  /** `[min, max]` for a numeric postcode, or patterns (one picked) for a string postcode (CA, GB, NO). */
  postcode: readonly [number, number] | readonly string[];
  /** CH uses French titles; everyone else Mr for men and Miss/Ms/Mrs for women. */
  titles?: { male: readonly string[]; female: readonly string[] };
}

const num = (min: number, max: number): readonly [number, number] => [min, max];

export const NAT_TABLES: Readonly<Record<Nationality, NatTable>> = {
  AU: {
    country: 'Australia', states: ['New South Wales', 'Victoria', 'Queensland', 'Western Australia', 'South Australia', 'Tasmania'],
    cities: ['Sydney', 'Melbourne', 'Brisbane', 'Perth', 'Adelaide', 'Hobart', 'Geelong', 'Cairns'],
    streets: ['George St', 'Queen St', 'Victoria Rd', 'Elizabeth St', 'Park Ave'],
    male: ['Jack', 'Oliver', 'Lachlan', 'Cooper', 'Riley', 'Noah'], female: ['Chloe', 'Ruby', 'Isla', 'Matilda', 'Zoe', 'Sienna'],
    last: ['Smith', 'Jones', 'Williams', 'Brown', 'Wilson', 'Taylor', 'Walker', 'Harris'],
    idName: 'TFN', id: { kind: 'pattern', pattern: '#########' }, phone: '0#-####-####', cell: '04##-###-###', postcode: num(200, 9999),
  },
  BR: {
    country: 'Brazil', states: ['São Paulo', 'Rio de Janeiro', 'Minas Gerais', 'Bahia', 'Paraná', 'Pernambuco'],
    cities: ['São Paulo', 'Campinas', 'Salvador', 'Recife', 'Curitiba', 'Belo Horizonte', 'Fortaleza'],
    streets: ['Rua São Jorge', 'Rua Dois', 'Avenida Brasil', 'Rua da Paz', 'Travessa dos Martírios'],
    male: ['João', 'Lucas', 'Gabriel', 'Thiago', 'Rafael', 'Otávio'], female: ['Ana', 'Beatriz', 'Luana', 'Mariana', 'Letícia', 'Júlia'],
    last: ['Silva', 'Souza', 'Oliveira', 'Pereira', 'Costa', 'Araújo', 'Ribeiro', 'Gonçalves'],
    idName: 'CPF', id: { kind: 'pattern', pattern: '###.###.###-##' }, phone: '(##) ####-####', cell: '(##) #####-####', postcode: num(10000, 99999),
  },
  CA: {
    country: 'Canada', states: ['Ontario', 'Québec', 'British Columbia', 'Alberta', 'Manitoba', 'Nova Scotia'],
    cities: ['Toronto', 'Montréal', 'Vancouver', 'Calgary', 'Ottawa', 'Winnipeg', 'Halifax'],
    streets: ['Maple Ave', 'King St', 'Dundas Rd', 'Elgin St', 'Lakeshore Rd'],
    male: ['Liam', 'Ethan', 'Logan', 'Nathan', 'Félix', 'Owen'], female: ['Emma', 'Olivia', 'Chloé', 'Léa', 'Abigail', 'Maya'],
    last: ['Tremblay', 'Gagnon', 'Roy', 'MacDonald', 'Wong', 'Campbell', 'Martin', 'Li'],
    // The real service puts letters in Canadian phone numbers; kept as a quirk.
    idName: 'SIN', id: { kind: 'pattern', pattern: '#########' }, phone: 'A## A##-####', cell: 'A## A##-####', postcode: ['A#A #A#'],
  },
  CH: {
    country: 'Switzerland', states: ['Zürich', 'Bern', 'Vaud', 'Genève', 'Ticino', 'Luzern'],
    cities: ['Zürich', 'Genève', 'Basel', 'Lausanne', 'Bern', 'Lugano', 'Fribourg'],
    streets: ['Rue de la Gare', 'Bahnhofstrasse', 'Place du Marché', 'Rue du Lac', 'Chemin des Vignes'],
    male: ['Luca', 'Noé', 'Mathis', 'Julien', 'Nicolas', 'Léon'], female: ['Léa', 'Anna', 'Chloé', 'Manon', 'Laura', 'Sarah'],
    last: ['Müller', 'Meier', 'Favre', 'Rochat', 'Bonvin', 'Perret', 'Girard', 'Fontaine'],
    idName: 'AVS', id: { kind: 'pattern', pattern: '756.####.####.##' }, phone: '0## ### ## ##', cell: '07# ### ## ##', postcode: num(1000, 9999),
    titles: { male: ['Monsieur'], female: ['Madame', 'Mademoiselle'] },
  },
  DE: {
    country: 'Germany', states: ['Bayern', 'Berlin', 'Hessen', 'Sachsen', 'Niedersachsen', 'Nordrhein-Westfalen'],
    cities: ['München', 'Berlin', 'Köln', 'Leipzig', 'Hannover', 'Frankfurt am Main', 'Dortmund'],
    streets: ['Hauptstraße', 'Schulstraße', 'Gartenstraße', 'Lindenweg', 'Bahnhofstraße'],
    male: ['Lukas', 'Jonas', 'Felix', 'Maximilian', 'Jürgen', 'Tobias'], female: ['Hannah', 'Lena', 'Sophie', 'Jana', 'Ute', 'Käthe'],
    last: ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Becker', 'Hoffmann', 'Schäfer'],
    idName: 'SVNR', id: { kind: 'pattern', pattern: '## ###### A ###' }, phone: '0###-#######', cell: '017#-#######', postcode: num(10000, 99999),
  },
  DK: {
    country: 'Denmark', states: ['Hovedstaden', 'Sjælland', 'Syddanmark', 'Midtjylland', 'Nordjylland'],
    cities: ['København', 'Aarhus', 'Odense', 'Aalborg', 'Esbjerg', 'Randers', 'Kolding'],
    streets: ['Nørregade', 'Vestergade', 'Kirkevej', 'Skovvej', 'Åboulevarden'],
    male: ['Magnus', 'Frederik', 'Mikkel', 'Søren', 'Anders', 'Emil'], female: ['Freja', 'Ida', 'Mathilde', 'Signe', 'Astrid', 'Maja'],
    last: ['Jensen', 'Nielsen', 'Hansen', 'Pedersen', 'Andersen', 'Christensen', 'Larsen', 'Sørensen'],
    idName: 'CPR', id: { kind: 'dob', suffix: '####', sep: '-' }, phone: '########', cell: '########', postcode: num(1000, 99999),
  },
  ES: {
    country: 'Spain', states: ['Madrid', 'Cataluña', 'Andalucía', 'Galicia', 'Castilla y León', 'Región de Murcia'],
    cities: ['Madrid', 'Barcelona', 'Sevilla', 'Valencia', 'Vigo', 'Málaga', 'Zaragoza'],
    streets: ['Calle Mayor', 'Avenida de América', 'Calle del Prado', 'Paseo de Extremadura', 'Ronda de Toledo'],
    male: ['Hugo', 'Pablo', 'Álvaro', 'Javier', 'Sergio', 'Iván'], female: ['Lucía', 'Carmen', 'Elena', 'Marta', 'Nuria', 'Inés'],
    last: ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez', 'Pérez'],
    idName: 'DNI', id: { kind: 'pattern', pattern: '########-A' }, phone: '9##-###-###', cell: '6##-###-###', postcode: num(10000, 99999),
  },
  FI: {
    country: 'Finland', states: ['Uusimaa', 'Pirkanmaa', 'Lapland', 'Kainuu', 'Northern Savonia', 'Ostrobothnia'],
    cities: ['Helsinki', 'Espoo', 'Tampere', 'Oulu', 'Turku', 'Jyväskylä', 'Kuopio'],
    streets: ['Mannerheimintie', 'Hämeenkatu', 'Esplanadi', 'Pispalan Valtatie', 'Aleksanterinkatu'],
    male: ['Eetu', 'Onni', 'Väinö', 'Aleksi', 'Juho', 'Elias'], female: ['Aino', 'Helmi', 'Venla', 'Sofia', 'Eveliina', 'Iida'],
    last: ['Korhonen', 'Virtanen', 'Mäkinen', 'Nieminen', 'Hämäläinen', 'Laine', 'Heikkinen', 'Koskinen'],
    idName: 'HETU', id: { kind: 'broken-hetu' }, phone: '0#-###-###', cell: '04#-###-##-##', postcode: num(10000, 99999),
  },
  FR: {
    country: 'France', states: ['Île-de-France', 'Bretagne', 'Gironde', 'Rhône', 'Nord', 'Haute-Garonne'],
    cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nantes', 'Bordeaux', 'Lille'],
    streets: ['Rue de la République', 'Avenue Jean-Jaurès', 'Rue Pasteur', 'Place de la Mairie', 'Rue Victor-Hugo'],
    male: ['Louis', 'Hugo', 'Théo', 'Mathéo', 'Baptiste', 'Clément'], female: ['Camille', 'Inès', 'Manon', 'Élise', 'Louise', 'Océane'],
    last: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Petit', 'Durand', 'Lefèvre'],
    idName: 'INSEE', id: { kind: 'insee' }, phone: '0#-##-##-##-##', cell: '06-##-##-##-##', postcode: num(10000, 99999),
  },
  GB: {
    country: 'United Kingdom', states: ['Greater London', 'West Midlands', 'Merseyside', 'Kent', 'Devon', 'Lothian'],
    cities: ['London', 'Birmingham', 'Liverpool', 'Canterbury', 'Exeter', 'Edinburgh', 'Leeds'],
    streets: ['High Street', 'Church Lane', 'Station Road', 'Mill Lane', 'Victoria Road'],
    male: ['Harry', 'George', 'Alfie', 'Oscar', 'Archie', 'Callum'], female: ['Amelia', 'Poppy', 'Jessica', 'Evie', 'Freya', 'Imogen'],
    last: ['Smith', 'Jones', 'Evans', 'Thomas', 'Roberts', 'Hughes', 'Davies', 'Wright'],
    idName: 'NINO', id: { kind: 'pattern', pattern: 'AA ## ## ## A' }, phone: '01### ######', cell: '07### ######',
    postcode: ['A# #AA', 'AA# #AA', 'AA## #AA', 'A#A #AA', 'AA#A #AA'],
  },
  IE: {
    country: 'Ireland', states: ['Dublin', 'Cork', 'Galway', 'Kerry', 'Limerick', 'Donegal'],
    cities: ['Dublin', 'Cork', 'Galway', 'Tralee', 'Limerick', 'Letterkenny', 'Sligo'],
    streets: ['Main Street', 'Church Road', 'Grafton Street', 'The Crescent', 'Mill Road'],
    male: ['Seán', 'Cian', 'Oisín', 'Darragh', 'Conor', 'Fionn'], female: ['Aoife', 'Saoirse', 'Niamh', 'Ciara', 'Róisín', 'Orla'],
    last: ['Murphy', 'Kelly', "O'Sullivan", 'Walsh', 'Byrne', 'Ryan', "O'Brien", 'Doyle'],
    idName: 'PPS', id: { kind: 'pattern', pattern: '#######A' }, phone: '0##-###-####', cell: '08#-###-####', postcode: num(10000, 99999),
  },
  IN: {
    country: 'India', states: ['Maharashtra', 'Karnataka', 'Tamil Nadu', 'Kerala', 'Gujarat', 'Punjab'],
    cities: ['Mumbai', 'Pune', 'Bengaluru', 'Chennai', 'Kochi', 'Ahmedabad', 'Ludhiana'],
    streets: ['MG Road', 'Station Road', 'Nehru Marg', 'Gandhi Chowk', 'Lake View Road'],
    male: ['Aarav', 'Vihaan', 'Arjun', 'Rohan', 'Ishaan', 'Kabir'], female: ['Ananya', 'Diya', 'Saanvi', 'Priya', 'Kavya', 'Meera'],
    last: ['Sharma', 'Patel', 'Iyer', 'Reddy', 'Nair', 'Gupta', 'Singh', 'Menon'],
    idName: 'UIDAI', id: { kind: 'pattern', pattern: '############' }, phone: '9#########', cell: '8#########', postcode: num(10000, 99999),
  },
  IR: {
    country: 'Iran', states: ['تهران', 'اصفهان', 'فارس', 'خراسان رضوی', 'گیلان', 'آذربایجان شرقی'],
    cities: ['تهران', 'اصفهان', 'شیراز', 'مشهد', 'رشت', 'تبریز', 'کرج'],
    streets: ['ولیعصر', 'انقلاب', 'آزادی', 'شریعتی', 'میرداماد'],
    male: ['علی|aly', 'رضا|rd', 'امیر|amyr', 'حسین|hsyn', 'آرین|aryn', 'مهدی|mhdy'],
    female: ['سارا|sara', 'نازنین|naznyn', 'مریم|mrym', 'زهرا|zhra', 'یاسمن|yasmn', 'آیدا|ayda'],
    last: ['محمدی|mhmdy', 'حسینی|hsyny', 'احمدی|ahmdy', 'رضایی|rdayy', 'کریمی|krymy', 'موسوی|mwswy', 'جعفری|jafry', 'صادقی|sadqy'],
    idName: '', id: { kind: 'null' }, phone: '0##-########', cell: '09##-###-####', postcode: num(10000, 99999),
  },
  MX: {
    country: 'Mexico', states: ['Jalisco', 'Nuevo León', 'Puebla', 'Oaxaca', 'Yucatán', 'Chihuahua'],
    cities: ['Guadalajara', 'Monterrey', 'Puebla', 'Oaxaca', 'Mérida', 'Chihuahua', 'Tijuana'],
    streets: ['Avenida Juárez', 'Calle Hidalgo', 'Callejón Morelos', 'Privada Reforma', 'Periférico Sur'],
    male: ['Santiago', 'Mateo', 'Diego', 'Emiliano', 'Jesús', 'Rodrigo'], female: ['Sofía', 'Valentina', 'Ximena', 'Regina', 'Camila', 'Guadalupe'],
    last: ['Hernández', 'García', 'Martínez', 'López', 'González', 'Ramírez', 'Flores', 'Cruz'],
    idName: 'NSS', id: { kind: 'pattern', pattern: '## ## ## #### #' }, phone: '(###) ### ####', cell: '(###) ### ####', postcode: num(10000, 99999),
  },
  NL: {
    country: 'Netherlands', states: ['Noord-Holland', 'Zuid-Holland', 'Utrecht', 'Gelderland', 'Friesland', 'Limburg'],
    cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Nijmegen', 'Leeuwarden', 'Maastricht', 'Den Haag'],
    streets: ['Kerkstraat', 'Dorpsstraat', 'Molenweg', 'Stationsplein', 'Prinsengracht'],
    male: ['Daan', 'Sem', 'Lars', 'Bram', 'Joris', 'Thijs'], female: ['Emma', 'Tess', 'Fenna', 'Sanne', 'Anouk', 'Lotte'],
    last: ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Meijer'],
    idName: 'BSN', id: { kind: 'pattern', pattern: '########' }, phone: '(###)-###-####', cell: '(06)-########', postcode: num(1000, 99999),
  },
  NO: {
    country: 'Norway', states: ['Oslo', 'Vestland', 'Trøndelag', 'Rogaland', 'Nordland', 'Troms'],
    cities: ['Oslo', 'Bergen', 'Trondheim', 'Stavanger', 'Bodø', 'Tromsø', 'Ålesund'],
    streets: ['Storgata', 'Kirkeveien', 'Sjøgata', 'Fjellveien', 'Kongens gate'],
    male: ['Jakob', 'Emil', 'Håkon', 'Sindre', 'Ola', 'Magnus'], female: ['Nora', 'Ingrid', 'Sofie', 'Solveig', 'Thea', 'Ragnhild'],
    last: ['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Berg', 'Haugen', 'Bakke', 'Dahl'],
    idName: 'FN', id: { kind: 'dob', suffix: '#####', sep: '' }, phone: '########', cell: '9#######', postcode: ['####'],
  },
  NZ: {
    country: 'New Zealand', states: ['Auckland', 'Wellington', 'Canterbury', 'Otago', 'Waikato', 'Northland'],
    cities: ['Auckland', 'Wellington', 'Christchurch', 'Dunedin', 'Hamilton', 'Whangarei', 'Napier'],
    streets: ['Queen Street', 'Lambton Quay', 'Ponsonby Road', 'Riccarton Road', 'George Street'],
    male: ['Nikau', 'Liam', 'Hunter', 'Tama', 'Jack', 'Mason'], female: ['Aroha', 'Charlotte', 'Mia', 'Ella', 'Kaia', 'Harper'],
    last: ['Smith', 'Wilson', 'Ngata', 'Taylor', 'Parata', 'Anderson', 'Thompson', 'Walker'],
    idName: '', id: { kind: 'null' }, phone: '(###)-###-####', cell: '(###)-###-####', postcode: num(1000, 99999),
  },
  RS: {
    country: 'Serbia', states: ['Beograd', 'Južna Bačka', 'Nišava', 'Šumadija', 'Zlatibor', 'Srem'],
    cities: ['Beograd', 'Novi Sad', 'Niš', 'Kragujevac', 'Užice', 'Sremska Mitrovica', 'Subotica'],
    streets: ['Knez Mihailova', 'Bulevar oslobođenja', 'Cara Dušana', 'Kralja Petra', 'Njegoševa'],
    male: ['Nikola', 'Luka', 'Stefan', 'Miloš', 'Đorđe', 'Vuk'], female: ['Milica', 'Jelena', 'Ana', 'Teodora', 'Dragana', 'Ivana'],
    last: ['Jovanović', 'Petrović', 'Nikolić', 'Marković', 'Đorđević', 'Stojanović', 'Ilić', 'Pavlović'],
    idName: 'SID', id: { kind: 'pattern', pattern: '#########' }, phone: '0##-####-###', cell: '06#-####-###', postcode: num(10000, 99999),
  },
  TR: {
    country: 'Turkey', states: ['İstanbul', 'Ankara', 'İzmir', 'Antalya', 'Bursa', 'Trabzon'],
    cities: ['İstanbul', 'Ankara', 'İzmir', 'Antalya', 'Bursa', 'Trabzon', 'Eskişehir'],
    streets: ['Atatürk Cd', 'İstiklal Cd', 'Bağdat Cd', 'Cumhuriyet Cd', 'Kıbrıs Şehitleri Cd'],
    male: ['Mehmet', 'Mustafa', 'Emre', 'Burak', 'Çağan', 'Yusuf'], female: ['Zeynep', 'Elif', 'Ayşe', 'Defne', 'Gülşen', 'Özge'],
    last: ['Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Yıldız', 'Öztürk', 'Aydın'],
    idName: '', id: { kind: 'null' }, phone: '(###)-###-####', cell: '(###)-###-####', postcode: num(10000, 99999),
  },
  UA: {
    country: 'Ukraine', states: ['Kiyivska', 'Lvivska', 'Odeska', 'Harkivska', 'Poltavska', 'Vinnicka'],
    cities: ['Kiyiv', 'Lviv', 'Odesa', 'Harkiv', 'Poltava', 'Vinnicya', 'Chernigiv'],
    streets: ['Hreschatik', 'Shevchenka', 'Sadova', 'Lisova', 'Naberezhna'],
    male: ['Oleksandr', 'Bogdan', 'Taras', 'Yaroslav', 'Dmitro', 'Ostap'], female: ['Oksana', 'Solomiya', 'Yevgeniya', 'Zlata', 'Mariya', 'Halina'],
    last: ['Melnik', 'Shevchenko', 'Bondarenko', 'Kovalenko', 'Tkachenko', 'Kravchenko', 'Oliynik', 'Lisenko'],
    // The real service puts a letter in Ukrainian phone numbers; kept as a quirk.
    idName: '', id: { kind: 'null' }, phone: '(0##) A##-####', cell: '(09#) A##-####', postcode: num(10000, 99999),
  },
  US: {
    country: 'United States', states: ['California', 'Texas', 'Ohio', 'Oregon', 'Georgia', 'New York', 'Colorado'],
    cities: ['Seattle', 'Austin', 'Columbus', 'Portland', 'Atlanta', 'Buffalo', 'Denver', 'Omaha'],
    streets: ['Main St', 'Oak Ridge Ln', 'Pecan Acres Ln', 'Washington Ave', 'Lakeview St'],
    male: ['James', 'Michael', 'Tyler', 'Brandon', 'Dwayne', 'Carl'], female: ['Emily', 'Madison', 'Brittany', 'Tiffany', 'Kelly', 'Joan'],
    last: ['Johnson', 'Miller', 'Davis', 'Moore', 'Jackson', 'White', 'Harris', 'Clark'],
    idName: 'SSN', id: { kind: 'pattern', pattern: '###-##-####' }, phone: '(###) ###-####', cell: '(###) ###-####', postcode: num(10000, 99999),
  },
};

/** The offsets and descriptions the real service picks from, independently of nationality. */
export const TIMEZONES: readonly (readonly [string, string])[] = [
  ['-12:00', 'Eniwetok, Kwajalein'], ['-11:00', 'Midway Island, Samoa'], ['-10:00', 'Hawaii'], ['-9:00', 'Alaska'],
  ['-8:00', 'Pacific Time (US & Canada)'], ['-7:00', 'Mountain Time (US & Canada)'],
  ['-6:00', 'Central Time (US & Canada), Mexico City'], ['-5:00', 'Eastern Time (US & Canada), Bogota, Lima'],
  ['-4:00', 'Atlantic Time (Canada), Caracas, La Paz'], ['-3:30', 'Newfoundland'], ['-3:00', 'Brazil, Buenos Aires, Georgetown'],
  ['-2:00', 'Mid-Atlantic'], ['-1:00', 'Azores, Cape Verde Islands'], ['0:00', 'Western Europe Time, London, Lisbon, Casablanca'],
  ['+1:00', 'Brussels, Copenhagen, Madrid, Paris'], ['+2:00', 'Kaliningrad, South Africa'],
  ['+3:00', 'Baghdad, Riyadh, Moscow, St. Petersburg'], ['+3:30', 'Tehran'], ['+4:00', 'Abu Dhabi, Muscat, Baku, Tbilisi'],
  ['+4:30', 'Kabul'], ['+5:00', 'Ekaterinburg, Islamabad, Karachi, Tashkent'], ['+5:30', 'Bombay, Calcutta, Madras, New Delhi'],
  ['+5:45', 'Kathmandu'], ['+6:00', 'Almaty, Dhaka, Colombo'], ['+7:00', 'Bangkok, Hanoi, Jakarta'],
  ['+8:00', 'Beijing, Perth, Singapore, Hong Kong'], ['+9:00', 'Tokyo, Seoul, Osaka, Sapporo, Yakutsk'],
  ['+9:30', 'Adelaide, Darwin'], ['+10:00', 'Eastern Australia, Guam, Vladivostok'],
  ['+11:00', 'Magadan, Solomon Islands, New Caledonia'],
];

export const ADJECTIVES = ['happy', 'tiny', 'silver', 'golden', 'orange', 'purple', 'crazy', 'lazy', 'brave', 'sad', 'big', 'heavy', 'red', 'blue', 'green', 'ticklish', 'beautiful', 'organic', 'yellow', 'black'] as const;
export const ANIMALS = ['peacock', 'zebra', 'koala', 'rabbit', 'butterfly', 'mouse', 'goose', 'lion', 'gorilla', 'ladybug', 'dog', 'elephant', 'bird', 'meercat', 'snake', 'duck', 'panda', 'fish', 'wolf', 'frog'] as const;
export const PASSWORDS = ['sunshine', 'dragon', 'monkey', 'letmein', 'shadow', 'master', 'qwerty', 'football', 'baseball', 'welcome', 'trustno1', 'hunter', 'ranger', 'buster', 'summer', 'marina', 'pepper', 'cookie', 'tigger', 'pirate', 'wizard', 'snoopy', '1234', '2000', 'boomer', 'gandalf', 'matrix', 'blue22', 'chelsea', 'rocket'] as const;
