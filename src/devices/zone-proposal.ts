/**
 * Proposed zones for a school's timetable rooms (`scope-energie devices draft`, the dashboard's
 * room-mapping view; docs/onboarding.md). Pure: rooms in, proposals out, each with the evidence
 * it rests on, so that a person reviewing the draft sees why every room went where it did.
 *
 * The rule, in order, for each room (on its name, upper-cased without accents; then its id):
 * 1. a place outside the school's buildings (stade, piscine, terrain, municipal…) is left for a
 *    person: whether the school heats it at all is not in the timetable;
 * 2. a special room recognised by a keyword (gymnase/EPS, CDI, labo, atelier, amphi, salle de
 *    réunion, self, internat…) gets that kind's rule category and goes with the other rooms of
 *    its kind (per building when they are in several);
 * 3. any other room is an ordinary teaching room (`classroom`), grouped by building and floor as
 *    far as its code tells them: a building word (`Bât A`, `Bâtiment 2`), the export's building
 *    field, a code "building letters + floor + number" (`B.0.12`, `A-RDC-03`, `B101`, `A012`), a
 *    bare three-digit number (`104`: first floor), a floor word (`RDC`, `1er étage`, `sous-sol`).
 *    What the code does not say stays unsaid: `B12` gives building B with no floor, `S12` or `22`
 *    nothing (a leading S or "Salle" names a room, not a building).
 * Zones follow buildings and floors because heating circuits and lighting lines usually do; a
 * person still splits or merges them by circuit (docs/onboarding.md, "Reviewing a draft").
 */
import type { ZoneCategory, ZoneFunction } from './schema.js';

export interface ProposalRoom {
  id: string;
  name: string;
  building?: string | undefined;
}

/** Where one room was put, and the evidence. */
export interface RoomPlacement {
  room: ProposalRoom;
  /** Building as read (upper case), when known. */
  building?: string;
  /** Floor: −1 basement, 0 ground floor, 1 first floor…; undefined when the code does not say. */
  floor?: number;
  /** The special kind recognised by name, when any. */
  special?: SpecialKind;
  /** One line for people: what was read from which field. */
  why: string;
}

export interface ZoneProposal {
  /** Topic-safe id, unique in the proposal. */
  id: string;
  /** French, for people (dashboard, audit). */
  name: string;
  category: ZoneCategory;
  functions: ZoneFunction[];
  /** Timetable room ids, in natural order. */
  rooms: string[];
  placements: RoomPlacement[];
  /** Why this zone, for its YAML comment. */
  reason: string;
}

export interface LeftForPerson {
  room: ProposalRoom;
  why: string;
}

export interface ZoneProposals {
  zones: ZoneProposal[];
  /** Rooms the rule does not place: a person decides (not guessed). */
  unplaced: LeftForPerson[];
}

export interface SpecialKind {
  /** Stable key, also the zone id's base. */
  key: string;
  category: ZoneCategory;
  /** Zone name (French). */
  label: string;
  /** What it is, in the explanations (English, like the rest of the file's comments). */
  description: string;
  /** The keyword that matched, for the explanation. */
  matched: string;
}

/** Lower-case words: boundaries only against letters, so `LABO1` and `EPS2` still match. */
function words(list: string): RegExp {
  return new RegExp(`(?<![A-Z])(?:${list})(?![A-Z])`);
}

/**
 * Special rooms by keyword, most specific first. Ventilation is proposed where such rooms usually
 * have their own air handling (labs, workshops, gyms, halls, kitchens); a person removes it when
 * this one has none.
 */
const SPECIAL_KINDS: readonly (Omit<SpecialKind, 'matched'> & { pattern: RegExp })[] = [
  {
    key: 'amphitheatre',
    description: 'a lecture hall',
    category: 'auditorium',
    label: 'Amphithéâtre',
    pattern: words('AMPHI|AMPHIS|AMPHITHEATRES?|AUDITORIUM|SALLE DE SPECTACLE|THEATRE'),
  },
  {
    key: 'gymnase',
    description: 'a gym or PE room',
    category: 'gym',
    label: 'Gymnase et salles d’EPS',
    pattern: words(
      'GYMNASES?|GYM|EPS|DOJO|SALLES? DE SPORTS?|SALLES? DES SPORTS|HALLE DES SPORTS|SALLE DE DANSE|MUSCULATION|SALLE D ESCALADE',
    ),
  },
  {
    key: 'cdi',
    description: 'a library (CDI)',
    category: 'library',
    label: 'CDI',
    pattern: words('CDI|C D I|BIBLIOTHEQUE|MEDIATHEQUE|CENTRE DE DOCUMENTATION|DOCUMENTATION'),
  },
  {
    key: 'laboratoires',
    description: 'a laboratory',
    category: 'laboratory',
    label: 'Laboratoires',
    pattern: words('LABOS?|LABORATOIRES?|LABS?|CHIMIE|PHYSIQUE|BIOLOGIE|SVT|SCIENCES EXPERIMENTALES'),
  },
  {
    key: 'ateliers',
    description: 'a workshop',
    category: 'workshop',
    label: 'Ateliers',
    pattern: words(
      'ATELIERS?|ATEL|PLATEAU TECHNIQUE|PLATEAUX TECHNIQUES|HALL TECHNIQUE|HALLE TECHNIQUE|USINAGE|SOUDURE|MENUISERIE|MECANIQUE|CUISINE PEDAGOGIQUE',
    ),
  },
  {
    key: 'salles-de-reunion',
    description: 'a meeting room or office',
    category: 'office',
    label: 'Salles de réunion et bureaux',
    pattern: words(
      'SALLES? DE REUNION|REUNION|SALLE DES PROFESSEURS|SALLE DES PROFS|SALLE DU CONSEIL|BUREAUX?|ADMINISTRATION|VIE SCOLAIRE|INFIRMERIE|CPE',
    ),
  },
  {
    key: 'restauration',
    description: 'a canteen',
    category: 'canteen',
    label: 'Restauration',
    pattern: words('CANTINE|REFECTOIRE|SELF|RESTAURATION|RESTAURANT SCOLAIRE|DEMI PENSION'),
  },
  {
    key: 'internat',
    description: 'boarding',
    category: 'boarding',
    label: 'Internat',
    pattern: words('INTERNAT|DORTOIRS?'),
  },
];

/** Places outside the buildings, or not the school's: the timetable cannot say who heats them. */
const OUTSIDE =
  /(?<![A-Z])(?:STADE|TERRAINS?|PISCINE|PLATEAU SPORTIF|PLATEAUX SPORTIFS|PISTE|COUR|PLEIN AIR|EXTERIEURS?|HORS SITE|HORS ETABLISSEMENT|MUNICIPAL|MUNICIPALE|PARC|GYMNASE DE LA VILLE)(?![A-Z])/;

const FUNCTIONS_BY_CATEGORY: Record<ZoneCategory, ZoneFunction[]> = {
  classroom: ['heating', 'lighting'],
  laboratory: ['heating', 'lighting', 'ventilation'],
  workshop: ['heating', 'lighting', 'ventilation'],
  gym: ['heating', 'lighting', 'ventilation'],
  office: ['heating', 'lighting'],
  circulation: ['heating', 'lighting'],
  boarding: ['heating', 'lighting'],
  library: ['heating', 'lighting'],
  auditorium: ['heating', 'lighting', 'ventilation'],
  canteen: ['heating', 'lighting', 'ventilation'],
  storage: ['heating'],
};

/** Upper case, no accents, runs of separators (`_ . - / ' ’`) as single spaces kept only where meaningful. */
export function normaliseRoomName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/[’'_]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function specialKindOf(name: string): SpecialKind | undefined {
  const normalised = normaliseRoomName(name).replace(/[.\-/]/g, ' ');
  for (const kind of SPECIAL_KINDS) {
    const match = kind.pattern.exec(normalised);
    if (match) {
      const { pattern: _pattern, ...rest } = kind;
      return { ...rest, matched: match[0] };
    }
  }
  return undefined;
}

export function isOutsidePlace(name: string): string | undefined {
  return OUTSIDE.exec(normaliseRoomName(name).replace(/[.\-/]/g, ' '))?.[0];
}

export interface CodeReading {
  building?: string;
  floor?: number;
  /** What was read, for the explanation. */
  evidence: string[];
}

const BUILDING_WORD = /(?<![A-Z])(?:BATIMENT|BAT|BLOC|PAVILLON|AILE)[ .:-]*([A-Z0-9]{1,3})(?![A-Z0-9])/;
const FLOOR_WORDS: readonly [RegExp, (m: RegExpExecArray) => number, string][] = [
  [/(?<![A-Z])(?:RDC|REZ DE CHAUSSEE|REZ DE CH)(?![A-Z])/, () => 0, 'ground floor'],
  [/(?<![A-Z])(?:SOUS SOL|S SOL|SOUS-SOL)(?![A-Z])/, () => -1, 'basement'],
  [/(?<![A-Z0-9])(\d)(?:ER|E|EME|ERE)? ETAGE(?![A-Z])/, (m) => Number(m[1]), 'floor word'],
  [/(?<![A-Z])ETAGE (\d)(?![0-9])/, (m) => Number(m[1]), 'floor word'],
];
/** `B.0.12`, `A-RDC-03`, `B 1 04`, `C.-1.02`: building letters, floor, number, with separators. */
const SEPARATED_CODE = /^([A-Z]{1,2})[ .-]+?(RDC|RC|R|-\d|\d{1,2})[ .-]+(\d{1,3}[A-Z]?)$/;
/** `B101`, `A012`, `BE204`: building letters then floor digit then a two-digit number. */
const COMPACT_CODE = /^([A-Z]{1,2})[ .-]?(\d)(\d{2})[A-Z]?$/;
/** `104`, `012`: floor digit then a two-digit number. */
const NUMBER_CODE = /^(\d)(\d{2})[A-Z]?$/;
/** `B12`, `A3`: a building letter and a room number, no floor. */
const LETTER_NUMBER = /^([A-Z])[ .-]?(\d{1,2})$/;
/** A leading "Salle"/"S" names a room, not a building (`S12`, `Salle 104`). */
const ROOM_WORD = /^(?:SALLES?|SAL|SL|S(?=[ .-]?\d))[ .-]*/;

/** What a room's code says about its building and floor; nothing that it does not say. */
export function readRoomCode(name: string): CodeReading {
  let rest = normaliseRoomName(name);
  const reading: CodeReading = { evidence: [] };
  const building = BUILDING_WORD.exec(rest);
  if (building?.[1]) {
    reading.building = building[1];
    reading.evidence.push(`"${building[0]}" names building ${building[1]}`);
    rest = `${rest.slice(0, building.index)} ${rest.slice(building.index + building[0].length)}`.trim();
  }
  rest = rest.replace(ROOM_WORD, '').trim();
  if (readCode(rest, reading)) return reading;
  // A floor word, then the code again without it (`RDC 104`, `1er étage - B12`).
  for (const [pattern, floorOf, what] of FLOOR_WORDS) {
    const match = pattern.exec(rest);
    if (match) {
      reading.floor = floorOf(match);
      reading.evidence.push(`"${match[0]}" is a ${what} (${floorLabel(reading.floor)})`);
      rest = `${rest.slice(0, match.index)} ${rest.slice(match.index + match[0].length)}`
        .replace(/^[ .-]+|[ .-]+$/g, '')
        .replace(ROOM_WORD, '')
        .trim();
      if (readCode(rest, reading)) return reading;
      break;
    }
  }
  const letterNumber = LETTER_NUMBER.exec(rest);
  if (letterNumber?.[1] && reading.building === undefined) {
    reading.building = letterNumber[1];
    reading.evidence.push(`code "${rest}": building ${letterNumber[1]}; too short to tell the floor`);
  }
  return reading;
}

/** Building and floor from a code alone (no words left); false when it is not one. */
function readCode(rest: string, reading: CodeReading): boolean {
  const separated = SEPARATED_CODE.exec(rest);
  if (separated) {
    const [, letters, floor] = separated as unknown as [string, string, string];
    reading.building ??= letters;
    reading.floor ??= /^R/.test(floor) ? 0 : Number(floor);
    reading.evidence.push(`code "${rest}": building ${letters}, ${floorLabel(reading.floor)}`);
    return true;
  }
  const compact = COMPACT_CODE.exec(rest);
  if (compact) {
    const [, letters, floor] = compact as unknown as [string, string, string];
    reading.building ??= letters;
    reading.floor ??= Number(floor);
    reading.evidence.push(
      `code "${rest}": building ${letters}, first digit ${floor} of the number is the floor (${floorLabel(Number(floor))})`,
    );
    return true;
  }
  const number = NUMBER_CODE.exec(rest);
  if (number) {
    const floor = Number(number[1]);
    reading.floor ??= floor;
    reading.evidence.push(`number "${rest}": first digit ${floor} is the floor (${floorLabel(floor)})`);
    return true;
  }
  return false;
}

export function floorLabel(floor: number): string {
  if (floor < 0) return floor === -1 ? 'sous-sol' : `sous-sol ${-floor}`;
  if (floor === 0) return 'rez-de-chaussée';
  return floor === 1 ? '1er étage' : `${floor}e étage`;
}

function floorSlug(floor: number): string {
  if (floor < 0) return floor === -1 ? 'sous-sol' : `sous-sol-${-floor}`;
  return floor === 0 ? 'rdc' : `etage-${floor}`;
}

/** Topic-safe slug (schema.ts TOPIC_SAFE_ID). */
export function slug(text: string): string {
  return (
    normaliseRoomName(text)
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'zone'
  );
}

const naturalOrder = new Intl.Collator('fr', { numeric: true, sensitivity: 'base' }).compare;

function buildingLabel(building: string): string {
  return `Bâtiment ${building}`;
}

/** A room's building from the export's field when given (data beats a reading of the name). */
function placementOf(room: ProposalRoom): { placed: RoomPlacement } | { left: LeftForPerson } {
  const outside = isOutsidePlace(room.name);
  if (outside) {
    return {
      left: {
        room,
        why: `"${outside}" in the name: a place outside the buildings or not the school's; decide whether a gateway drives it`,
      },
    };
  }
  const special = specialKindOf(room.name) ?? (room.id !== room.name ? specialKindOf(room.id) : undefined);
  const exported = room.building?.trim() ? normaliseRoomName(room.building) : undefined;
  const fromName = readRoomCode(room.name);
  const reading =
    fromName.building !== undefined || fromName.floor !== undefined || room.id === room.name
      ? fromName
      : readRoomCode(room.id);
  const placement: RoomPlacement = { room, why: '' };
  const evidence: string[] = [];
  if (special) evidence.push(`"${special.matched}" in the name: ${special.description}`);
  if (exported !== undefined) {
    placement.building = exported;
    evidence.push(`building ${exported} from the export`);
    if (reading.building !== undefined && reading.building !== exported)
      evidence.push(`(the code reads ${reading.building}; the export's field wins)`);
  } else if (reading.building !== undefined) placement.building = reading.building;
  if (reading.floor !== undefined) placement.floor = reading.floor;
  evidence.push(...reading.evidence);
  if (special) placement.special = special;
  if (evidence.length === 0) evidence.push('no building or floor in the name');
  placement.why = evidence.join('; ');
  return { placed: placement };
}

/**
 * The proposal for a school: one zone per special kind (per building when the kind is in
 * several), one per building and floor for the other rooms, one per building for rooms whose
 * floor is unknown, and one for the rooms whose code says neither.
 */
export function proposeZones(rooms: readonly ProposalRoom[]): ZoneProposals {
  const unplaced: LeftForPerson[] = [];
  const placements: RoomPlacement[] = [];
  const seen = new Set<string>();
  for (const room of rooms) {
    if (seen.has(room.id)) continue;
    seen.add(room.id);
    const result = placementOf(room);
    if ('left' in result) unplaced.push(result.left);
    else placements.push(result.placed);
  }

  type Group = { key: string; order: string; build(id: string): Omit<ZoneProposal, 'id'> };
  const groups = new Map<string, { group: Group; members: RoomPlacement[] }>();
  const add = (group: Group, member: RoomPlacement) => {
    const known = groups.get(group.key);
    if (known) known.members.push(member);
    else groups.set(group.key, { group, members: [member] });
  };

  const specialBuildings = new Map<string, Set<string>>();
  for (const p of placements) {
    if (!p.special) continue;
    const set = specialBuildings.get(p.special.key) ?? new Set<string>();
    set.add(p.building ?? '');
    specialBuildings.set(p.special.key, set);
  }

  for (const p of placements) {
    if (p.special) {
      const kind = p.special;
      const split = (specialBuildings.get(kind.key)?.size ?? 0) > 1;
      const building = split ? p.building : undefined;
      add(
        {
          key: `special|${kind.key}|${building ?? ''}`,
          order: `1|${SPECIAL_KINDS.findIndex((k) => k.key === kind.key)}|${building ?? ''}`,
          build: () => ({
            name: building !== undefined ? `${kind.label}, ${buildingLabel(building)}` : kind.label,
            category: kind.category,
            functions: [...FUNCTIONS_BY_CATEGORY[kind.category]],
            rooms: [],
            placements: [],
            reason: `recognised by name as ${kind.description} (rule category ${kind.category})${
              split
                ? building !== undefined
                  ? `; this kind is in several buildings, one zone per building`
                  : '; this kind is in several buildings and these rooms name none'
                : ''
            }`,
          }),
        },
        p,
      );
    } else if (p.building !== undefined && p.floor !== undefined) {
      const { building, floor } = p;
      add(
        {
          key: `floor|${building}|${floor}`,
          order: `0|${building}|${String(floor + 10).padStart(3, '0')}`,
          build: () => ({
            name: `${buildingLabel(building)}, ${floorLabel(floor)}`,
            category: 'classroom',
            functions: [...FUNCTIONS_BY_CATEGORY.classroom],
            rooms: [],
            placements: [],
            reason: `teaching rooms of building ${building}, ${floorLabel(floor)}, as read from their codes; one zone per building and floor is a start: split it by heating circuit or lighting line`,
          }),
        },
        p,
      );
    } else if (p.building !== undefined) {
      const { building } = p;
      add(
        {
          key: `building|${building}`,
          order: `0|${building}|zzz`,
          build: () => ({
            name: `${buildingLabel(building)}, étage à préciser`,
            category: 'classroom',
            functions: [...FUNCTIONS_BY_CATEGORY.classroom],
            rooms: [],
            placements: [],
            reason: `teaching rooms of building ${building} whose codes do not give the floor: move each to its floor's zone or keep them together`,
          }),
        },
        p,
      );
    } else if (p.floor !== undefined) {
      const { floor } = p;
      add(
        {
          key: `floor-only|${floor}`,
          order: `2|${String(floor + 10).padStart(3, '0')}`,
          build: () => ({
            name: `Salles du ${floorLabel(floor)}, bâtiment à préciser`,
            category: 'classroom',
            functions: [...FUNCTIONS_BY_CATEGORY.classroom],
            rooms: [],
            placements: [],
            reason: `teaching rooms on the ${floorLabel(floor)} whose codes name no building: split them by building if the school has several`,
          }),
        },
        p,
      );
    } else {
      add(
        {
          key: 'ordinary',
          order: '3',
          build: () => ({
            name: 'Salles d’enseignement, bâtiment et étage à préciser',
            category: 'classroom',
            functions: [...FUNCTIONS_BY_CATEGORY.classroom],
            rooms: [],
            placements: [],
            reason:
              'ordinary teaching rooms (no special keyword) whose names give neither building nor floor: one zone until a person splits them by circuit',
          }),
        },
        p,
      );
    }
  }

  const zones: ZoneProposal[] = [];
  const ids = new Set<string>();
  const sorted = [...groups.values()].sort((a, b) => naturalOrder(a.group.order, b.group.order));
  for (const { group, members } of sorted) {
    members.sort((a, b) => naturalOrder(a.room.name, b.room.name) || naturalOrder(a.room.id, b.room.id));
    const base = idBaseOf(group.key);
    let id = base;
    for (let n = 2; ids.has(id); n++) id = `${base}-${n}`;
    ids.add(id);
    zones.push({
      id,
      ...group.build(id),
      rooms: members.map((m) => m.room.id),
      placements: members,
    });
  }
  unplaced.sort((a, b) => naturalOrder(a.room.name, b.room.name));
  return { zones, unplaced };
}

function idBaseOf(key: string): string {
  const [kind, a = '', b = ''] = key.split('|');
  switch (kind) {
    case 'special':
      return b ? `${a}-batiment-${slug(b)}` : a;
    case 'floor':
      return `batiment-${slug(a)}-${floorSlug(Number(b))}`;
    case 'building':
      return `batiment-${slug(a)}`;
    case 'floor-only':
      return `salles-${floorSlug(Number(a))}`;
    default:
      return 'salles';
  }
}
