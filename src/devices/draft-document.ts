/**
 * A commented `devices/{uai}.yaml` draft from a zone proposal (zone-proposal.ts): every zone
 * carries its reason and every room the evidence it was placed on; what the timetable cannot
 * tell (gateway, heating type, loss coefficient, outside places) is marked TODO or left out in a
 * comment, never guessed silently (docs/onboarding.md). Pure: values in, text out.
 */
import { Document, isMap, isSeq, type Scalar, type YAMLMap, type YAMLSeq } from 'yaml';
import { type ProposalRoom, proposeZones, type ZoneProposals } from './zone-proposal.js';

/**
 * A scrypt-shaped hash that no password produces: salt "TODO-placeholder", an all-zero key.
 * It passes the schema so the draft loads, and no gateway can log in with it until
 * `scope-energie gateway credentials` replaces it (which also drops its TODO comment).
 */
export const PLACEHOLDER_PASSWORD_HASH = `scrypt$16384$8$1$${Buffer.from('TODO-placeholder').toString('base64')}$${Buffer.alloc(32).toString('base64')}`;

/** The heating type the draft writes: the rules' defaults apply to it (no `heating_types` entry). */
export const DRAFT_HEATING_TYPE = 'hydronic';

export interface DraftSchool {
  uai: string;
  /** From the store; when absent the UAI stands in, marked TODO. */
  name?: string | null | undefined;
  timezone: string;
}

export interface DraftInput {
  school: DraftSchool;
  rooms: readonly ProposalRoom[];
  /** Timetable version the rooms come from, for the header. */
  version?: number | undefined;
}

export interface Draft {
  text: string;
  proposals: ZoneProposals;
  gatewayId: string;
}

export function draftDevicesFile(input: DraftInput): Draft {
  const proposals = proposeZones(input.rooms);
  const { uai } = input.school;
  const gatewayId = `gw-${uai.toLowerCase()}`;
  const doc = new Document(
    {
      school: {
        uai,
        name: input.school.name?.trim() || uai,
        timezone: input.school.timezone,
      },
      gateways: [
        { id: gatewayId, username: gatewayId, password_hash: PLACEHOLDER_PASSWORD_HASH, adapter: 'native' },
      ],
      zones: proposals.zones.map((zone) => ({
        id: zone.id,
        name: zone.name,
        gateway: gatewayId,
        rooms: zone.rooms,
        functions: zone.functions,
        category: zone.category,
        heating_type: DRAFT_HEATING_TYPE,
      })),
    },
    { aliasDuplicateObjects: false },
  );

  const placed = proposals.zones.reduce((n, z) => n + z.rooms.length, 0);
  const left = proposals.unplaced.length;
  doc.commentBefore = [
    ' yaml-language-server: $schema=../docs/schemas/devices.json',
    ` DRAFT written by \`scope-energie devices draft\` from the rooms of timetable version ${input.version ?? '?'}`,
    ` of ${uai}: ${placed} room(s) in ${proposals.zones.length} proposed zone(s)${left > 0 ? `, ${left} left for a person (end of file)` : ''}.`,
    ' Zones follow building and floor as read from room codes, and special rooms by name',
    ' (docs/onboarding.md). Review every zone against the real heating circuits and lighting',
    ' lines, then resolve each TODO:',
    ' - gateway: run `scope-energie gateway credentials --uai UAI --gateway ID` to replace the',
    '   placeholder password hash (no gateway can log in with it);',
    ` - heating_type: the timetable does not say; ${DRAFT_HEATING_TYPE} is written because the default rules`,
    '   apply to it unchanged; set electric, underfloor or air where that is what the zone has;',
    ' - loss_coefficient_w_per_k (and time_constant_h): needed for the savings estimate;',
    ' - ventilation is proposed for labs, workshops, gyms, halls and kitchens: remove it where',
    '   the zone has no air handling.',
    ...(left > 0
      ? [
          ` \`scope-energie check\` reports the ${left} room(s) listed at the end as room-without-zone until`,
          ' a person puts each in a zone: whether the school drives them is not in the timetable.',
        ]
      : [' With the placeholders above, this file passes `scope-energie check`.']),
  ].join('\n');

  (doc.getIn(['school', 'uai'], true) as Scalar).type = 'QUOTE_DOUBLE';
  if (!input.school.name?.trim()) {
    setComment(doc, ['school', 'name'], ' TODO: the school name as people know it (the store has none)');
  }
  const gateways = doc.get('gateways') as YAMLSeq;
  const gateway = gateways.items[0] as YAMLMap;
  gateway.commentBefore =
    " TODO: one gateway is assumed; add one entry per building-automation gateway and set each zone's gateway.";
  const hash = gateway.get('password_hash', true) as Scalar;
  hash.type = 'QUOTE_DOUBLE';
  hash.comment = ' TODO placeholder: replace with `scope-energie gateway credentials`';

  const zones = doc.get('zones') as YAMLSeq;
  proposals.zones.forEach((proposal, i) => {
    const node = zones.items[i];
    if (!isMap(node)) return;
    node.commentBefore = ` ${proposal.name}: ${proposal.reason}.`;
    const rooms = node.get('rooms', true);
    if (isSeq(rooms)) {
      rooms.items.forEach((item, j) => {
        const placement = proposal.placements[j];
        if (placement)
          (item as Scalar).comment =
            placement.room.name === placement.room.id
              ? ` ${placement.why}`
              : ` ${placement.room.name}: ${placement.why}`;
      });
    }
    const functions = node.get('functions', true);
    if (isSeq(functions)) functions.flow = true;
    (node.get('heating_type', true) as Scalar).comment = ' TODO: check (not in the timetable)';
  });

  if (left > 0) {
    doc.comment = [
      ' TODO: rooms left for a person (not placed in any zone; `check` reports them as room-without-zone):',
      ...proposals.unplaced.map(
        (u) => ` - ${u.room.id}${u.room.name !== u.room.id ? ` (${u.room.name})` : ''}: ${u.why}`,
      ),
    ].join('\n');
  }
  // lineWidth 0: hashes and comments stay on one line, as people paste and grep them.
  return { text: doc.toString({ lineWidth: 0, flowCollectionPadding: false }), proposals, gatewayId };
}

function setComment(doc: Document, path: string[], comment: string): void {
  const node = doc.getIn(path, true) as Scalar | undefined;
  if (node) node.comment = comment;
}
