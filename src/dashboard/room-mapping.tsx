/**
 * `GET /tableau-de-bord/{uai}/salles`: one school's room ↔ zone mapping against its current
 * timetable (docs/dashboard.md, "Salles et zones"; docs/onboarding.md): the timetable rooms in no
 * zone, with the zone the onboarding rule proposes for each (src/devices/zone-proposal.ts), and
 * the zones that name rooms the timetable no longer has. French, server-rendered, no script.
 */
import type { LoadedDevices } from '../devices/load.js';
import type { ZoneCategory } from '../devices/schema.js';
import { proposeZones } from '../devices/zone-proposal.js';
import type { DashboardDeps } from './deps.js';
import { Layout } from './layout.js';
import { schoolHref, type Viewer } from './pages.js';

export interface UnzonedRoom {
  id: string;
  name: string;
  /** The proposal: an existing zone of the same id, or a new one to create. */
  proposal: {
    zoneId: string;
    zoneName: string;
    category: ZoneCategory;
    existing: boolean;
    why: string;
  } | null;
  /** Why the rule leaves it to a person, when it does. */
  leftBecause?: string;
}

export interface RoomMappingView {
  uai: string;
  name: string;
  /** False when the school has no timetable in the hub: nothing to compare. */
  hasTimetable: boolean;
  roomCount: number;
  unzoned: UnzonedRoom[];
  /** Zones naming rooms that are neither an id nor a name of the timetable. */
  staleZones: { zoneId: string; zoneName: string; missing: string[] }[];
}

/**
 * The comparison itself. It reads the rooms through `deps.timetable` (one decode per view: the
 * page is opened at onboarding, not polled; docs/dashboard.md says so).
 */
export async function roomMappingView(deps: DashboardDeps, devices: LoadedDevices): Promise<RoomMappingView> {
  const { school, zones } = devices.value;
  const timetable = await deps.timetable(school.uai);
  const base = { uai: school.uai, name: school.name };
  if (!timetable) return { ...base, hasTimetable: false, roomCount: 0, unzoned: [], staleZones: [] };
  const known = new Set<string>();
  for (const room of timetable.rooms) {
    known.add(room.id);
    known.add(room.name);
  }
  const claimed = new Set(zones.flatMap((z) => z.rooms));
  const unzonedRooms = timetable.rooms.filter((r) => !claimed.has(r.id) && !claimed.has(r.name));
  const proposals = proposeZones(unzonedRooms);
  const zoneIds = new Set(zones.map((z) => z.id));
  const byRoom = new Map<string, UnzonedRoom>();
  for (const proposal of proposals.zones) {
    proposal.placements.forEach((placement) => {
      byRoom.set(placement.room.id, {
        id: placement.room.id,
        name: placement.room.name,
        proposal: {
          zoneId: proposal.id,
          zoneName: proposal.name,
          category: proposal.category,
          existing: zoneIds.has(proposal.id),
          why: placement.why,
        },
      });
    });
  }
  for (const left of proposals.unplaced) {
    byRoom.set(left.room.id, {
      id: left.room.id,
      name: left.room.name,
      proposal: null,
      leftBecause: left.why,
    });
  }
  const staleZones = zones
    .map((zone) => ({
      zoneId: zone.id,
      zoneName: zone.name,
      missing: zone.rooms.filter((r) => !known.has(r)),
    }))
    .filter((z) => z.missing.length > 0);
  return {
    ...base,
    hasTimetable: true,
    roomCount: timetable.rooms.length,
    unzoned: unzonedRooms.map((r) => byRoom.get(r.id)).filter((r): r is UnzonedRoom => r !== undefined),
    staleZones,
  };
}

const CATEGORY_LABELS: Record<ZoneCategory, string> = {
  classroom: 'salle d’enseignement',
  laboratory: 'laboratoire',
  workshop: 'atelier',
  gym: 'gymnase',
  office: 'bureau ou salle de réunion',
  circulation: 'circulation',
  boarding: 'internat',
  library: 'CDI',
  auditorium: 'amphithéâtre',
  canteen: 'restauration',
  storage: 'réserve',
};

export function RoomMappingPage(props: { viewer: Viewer; view: RoomMappingView }) {
  const { view, viewer } = props;
  const title = `Salles et zones : ${view.name} (${view.uai})`;
  return (
    <Layout title={`Tableau de bord : ${title}`} clientId={viewer.clientId} showVue={viewer.showVue}>
      <p>
        <a href={schoolHref(view.uai)}>← Retour à l’établissement</a>
      </p>
      <h1>{title}</h1>
      {!view.hasTimetable ? (
        <p role="status">
          Aucun emploi du temps reçu pour cet établissement : rien à comparer avec le fichier des zones.
        </p>
      ) : (
        <>
          <p>
            {view.roomCount} salle(s) dans l’emploi du temps en cours ; {view.unzoned.length} hors de toute
            zone ; {view.staleZones.length} zone(s) citant des salles disparues.
          </p>
          <UnzonedRooms view={view} />
          <StaleZones view={view} />
          <section aria-labelledby="corriger-titre">
            <h2 id="corriger-titre">Corriger</h2>
            <p>
              Les zones se modifient dans <code>devices/{view.uai}.yaml</code>, ou par tableur :{' '}
              <code>scope-energie devices export --uai {view.uai} --format csv --out zones.csv</code>, puis{' '}
              <code>scope-energie devices import zones.csv --uai {view.uai} --format csv</code>. Les
              propositions suivent la règle de <code>scope-energie devices draft</code> (bâtiment et étage lus
              dans le code de la salle, salles spécialisées reconnues par leur nom) : une personne les vérifie
              avant de les reprendre.
            </p>
          </section>
        </>
      )}
    </Layout>
  );
}

function UnzonedRooms(props: { view: RoomMappingView }) {
  const { view } = props;
  return (
    <section aria-labelledby="sans-zone-titre">
      <h2 id="sans-zone-titre">Salles hors de toute zone</h2>
      {view.unzoned.length === 0 ? (
        <p role="status">Toutes les salles de l’emploi du temps sont dans une zone.</p>
      ) : (
        <table>
          <caption>Leurs cours ne pilotent rien tant qu’elles ne sont dans aucune zone.</caption>
          <thead>
            <tr>
              <th scope="col">Salle</th>
              <th scope="col">Zone proposée</th>
              <th scope="col">Catégorie</th>
              <th scope="col">Pourquoi</th>
            </tr>
          </thead>
          <tbody>
            {view.unzoned.map((room) => (
              <tr>
                <th scope="row">
                  {room.name}
                  {room.name !== room.id ? <> ({room.id})</> : null}
                </th>
                {room.proposal ? (
                  <>
                    <td>
                      <code>{room.proposal.zoneId}</code> — {room.proposal.zoneName}
                      {room.proposal.existing ? ' (zone existante)' : ' (nouvelle zone)'}
                    </td>
                    <td>{CATEGORY_LABELS[room.proposal.category]}</td>
                    <td>{room.proposal.why}</td>
                  </>
                ) : (
                  <>
                    <td>À décider par une personne</td>
                    <td>—</td>
                    <td>{room.leftBecause}</td>
                  </>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function StaleZones(props: { view: RoomMappingView }) {
  const { view } = props;
  return (
    <section aria-labelledby="disparues-titre">
      <h2 id="disparues-titre">Zones citant des salles disparues</h2>
      {view.staleZones.length === 0 ? (
        <p role="status">Chaque salle citée par une zone existe dans l’emploi du temps.</p>
      ) : (
        <table>
          <caption>Ces salles ne sont plus dans l’emploi du temps : renommées ou supprimées.</caption>
          <thead>
            <tr>
              <th scope="col">Zone</th>
              <th scope="col">Salles disparues</th>
            </tr>
          </thead>
          <tbody>
            {view.staleZones.map((zone) => (
              <tr>
                <th scope="row">
                  <code>{zone.zoneId}</code> — {zone.zoneName}
                </th>
                <td>{zone.missing.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
