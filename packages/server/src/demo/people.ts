/**
 * Word lists for synthetic people and places. Names reflect the mix of an English practice list;
 * street names are made up; postcodes use real outward codes of a few Yorkshire towns with made-up
 * inward codes, so they look right to staff and to postcode validation but point at no real address.
 */

export const maleGivenNames = [
  'Oliver', 'George', 'Harry', 'Jack', 'Jacob', 'Noah', 'Charlie', 'Thomas', 'Oscar', 'William', 'James', 'Leo',
  'Alfie', 'Henry', 'Joshua', 'Freddie', 'Archie', 'Ethan', 'Isaac', 'Alexander', 'Joseph', 'Edward', 'Samuel', 'Max',
  'Daniel', 'Arthur', 'Lucas', 'Mohammed', 'Muhammad', 'Ali', 'Omar', 'Yusuf', 'Ibrahim', 'Hassan', 'Arjun', 'Rohan',
  'Aarav', 'Ravi', 'Sanjay', 'Rajesh', 'Harpreet', 'Gurpreet', 'Kwame', 'Kofi', 'Chukwuemeka', 'Oluwaseun', 'Tunde',
  'Jakub', 'Piotr', 'Tomasz', 'Andrei', 'Mihai', 'Wei', 'Jun', 'Connor', 'Ciaran', 'Sean', 'Liam', 'Rhys', 'Dylan',
  'Owen', 'Gareth', 'Callum', 'Euan', 'Fraser', 'David', 'John', 'Michael', 'Peter', 'Paul', 'Stephen', 'Robert',
  'Richard', 'Christopher', 'Mark', 'Andrew', 'Anthony', 'Kevin', 'Gary', 'Ian', 'Colin', 'Keith', 'Brian', 'Derek',
  'Kenneth', 'Geoffrey', 'Roy', 'Dennis', 'Stanley', 'Albert', 'Ernest', 'Frank', 'Raymond', 'Trevor', 'Neil', 'Simon',
] as const;

export const femaleGivenNames = [
  'Olivia', 'Amelia', 'Isla', 'Ava', 'Mia', 'Ivy', 'Lily', 'Isabella', 'Sophia', 'Grace', 'Freya', 'Florence', 'Willow',
  'Emily', 'Ella', 'Poppy', 'Evie', 'Charlotte', 'Daisy', 'Phoebe', 'Sienna', 'Ruby', 'Alice', 'Harper', 'Matilda',
  'Aisha', 'Fatima', 'Maryam', 'Zainab', 'Hafsa', 'Ayesha', 'Priya', 'Ananya', 'Sunita', 'Anjali', 'Simran', 'Manpreet',
  'Amara', 'Chidinma', 'Ngozi', 'Adaeze', 'Abena', 'Folake', 'Zofia', 'Agnieszka', 'Katarzyna', 'Ioana', 'Elena',
  'Mei', 'Xin', 'Siobhan', 'Niamh', 'Aoife', 'Ffion', 'Cerys', 'Seren', 'Eilidh', 'Morag', 'Catriona', 'Sarah', 'Emma',
  'Laura', 'Rebecca', 'Hannah', 'Rachel', 'Claire', 'Nicola', 'Helen', 'Karen', 'Julie', 'Susan', 'Deborah', 'Alison',
  'Joanne', 'Michelle', 'Lisa', 'Angela', 'Elizabeth', 'Margaret', 'Patricia', 'Barbara', 'Jean', 'Sheila', 'Joan',
  'Doreen', 'Brenda', 'Maureen', 'Pauline', 'Irene', 'Edna', 'Gladys', 'Vera', 'Dorothy', 'Eileen', 'Valerie',
] as const;

export const familyNames = [
  'Smith', 'Jones', 'Taylor', 'Brown', 'Williams', 'Wilson', 'Johnson', 'Davies', 'Robinson', 'Wright', 'Thompson',
  'Evans', 'Walker', 'White', 'Roberts', 'Green', 'Hall', 'Wood', 'Jackson', 'Clarke', 'Hughes', 'Edwards', 'Lewis',
  'Harris', 'Turner', 'Hill', 'Moore', 'Cooper', 'Ward', 'Morris', 'King', 'Watson', 'Harrison', 'Morgan', 'Baker',
  'Young', 'Allen', 'Mitchell', 'Anderson', 'Bell', 'Atkinson', 'Barker', 'Dawson', 'Shaw', 'Holmes', 'Fletcher',
  'Lister', 'Sutcliffe', 'Ackroyd', 'Brearley', 'Greenwood', 'Haigh', 'Hirst', 'Kershaw', 'Pickles', 'Ramsden',
  'Khan', 'Hussain', 'Ahmed', 'Ali', 'Akhtar', 'Begum', 'Iqbal', 'Mahmood', 'Rashid', 'Patel', 'Shah', 'Sharma',
  'Singh', 'Kaur', 'Gill', 'Sandhu', 'Mistry', 'Chauhan', 'Okafor', 'Adeyemi', 'Mensah', 'Owusu', 'Asante', 'Mwangi',
  'Campbell', 'Stewart', 'MacDonald', 'Murray', 'Fraser', "O'Brien", "O'Connor", 'Murphy', 'Kelly', 'Byrne', 'Nowak',
  'Kowalski', 'Wiśniewski', 'Popescu', 'Chen', 'Wang', 'Li', 'Nguyen', 'Da Silva', 'Santos', 'Costa', 'Rossi', 'Yilmaz',
] as const;

const streetStems = [
  'Alderbrook', 'Ashcombe', 'Beckwith', 'Birchfield', 'Bramblegate', 'Brooklands', 'Calverley', 'Chapelfold',
  'Claremont', 'Cowlersley', 'Dalesview', 'Elmroyd', 'Fernbank', 'Foxholme', 'Gilstead', 'Glebelands', 'Hawthornby',
  'Heatherdene', 'Hollinwood', 'Kestrel', 'Larchmere', 'Lindley', 'Meadowcroft', 'Millbeck', 'Moorside', 'Netherfield',
  'Oakroyd', 'Orchardleigh', 'Pennine', 'Quarryfold', 'Ravensworth', 'Rowanberry', 'Sandholme', 'Spinneyfield',
  'Stonegate', 'Swaledale', 'Thornleigh', 'Upperwood', 'Wensley', 'Westercroft', 'Willowbeck', 'Wrenfield',
] as const;
const streetKinds = ['Road', 'Lane', 'Street', 'Avenue', 'Close', 'Drive', 'Grove', 'Crescent', 'Way', 'Court', 'Gardens', 'Terrace'] as const;

export const streets: readonly string[] = streetStems.flatMap((stem, i) => [0, 1, 2].map((k) => `${stem} ${streetKinds[(i * 5 + k * 7) % streetKinds.length]}`));

/** Towns with real postcode districts (outward codes); the inward part is generated. */
export const towns = [
  { town: 'Harrogate', county: 'North Yorkshire', districts: ['HG1', 'HG2', 'HG3'], weight: 5 },
  { town: 'Knaresborough', county: 'North Yorkshire', districts: ['HG5'], weight: 2 },
  { town: 'Ripon', county: 'North Yorkshire', districts: ['HG4'], weight: 2 },
  { town: 'Wetherby', county: 'West Yorkshire', districts: ['LS22'], weight: 1 },
  { town: 'Otley', county: 'West Yorkshire', districts: ['LS21'], weight: 1 },
] as const;

/** Letters allowed in the last two characters of a UK postcode (no C I K M O V). */
const UNIT_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

export function postcode(district: string, sector: number, a: number, b: number): string {
  return `${district} ${sector}${UNIT_LETTERS[a % UNIT_LETTERS.length]}${UNIT_LETTERS[b % UNIT_LETTERS.length]}`;
}

/** UK postcode shape (outward code, space, inward code), for tests. */
export const UK_POSTCODE = /^[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}$/;

/**
 * Ofcom reserves 07700 900000 to 07700 900999 for drama: never allocated to a real phone.
 * Index 0-999 picks one; nothing else is ever generated as a phone number.
 */
export function dramaMobile(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 999) throw new RangeError(`dramaMobile(${index}): index must be 0-999`);
  return `07700 900${String(index).padStart(3, '0')}`;
}

export const DRAMA_MOBILE = /^07700 900\d{3}$/;

export const clinicianGivenNames = {
  female: ['Sarah', 'Priya', 'Helen', 'Ngozi', 'Rachel', 'Fiona', 'Aisha', 'Catherine', 'Joanna', 'Mei'],
  male: ['James', 'Rajesh', 'Andrew', 'Tunde', 'Mark', 'Iain', 'Omar', 'Paul', 'Tomasz', 'David'],
} as const;
