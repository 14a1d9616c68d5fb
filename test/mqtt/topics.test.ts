import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOPIC_PREFIX,
  encodePayload,
  MqttTopics,
  TOPIC_DELIVERY,
  topicSegmentProblem,
} from '../../src/contract/topics.js';
import { InputError } from '../../src/domain/problems.js';

// 0670080Y and 0750654D: real UAIs whose check letters docs/formats.md, "UAI", verifies.
const UAI = '0670080Y';
const OTHER_UAI = '0750654D';
const topics = new MqttTopics();

const desired = {
  rev: 7,
  mode: 'comfort',
  setpoint_c: 19,
  valid_until: '2026-03-02T09:00:00.000Z',
  reason: { rule: 'R241-26', basis: 'Code de l’énergie', lessons: ['L42'] },
  issued_at: '2026-03-02T06:30:00.000Z',
};

function thrown(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('topic builders', () => {
  it('builds every contract topic under the default prefix with retain and QoS 1', () => {
    expect(DEFAULT_TOPIC_PREFIX).toBe('sobriete/v1');
    const built = [
      topics.bridgeStatus(),
      topics.desired(UAI, 'salle-101', 'heating'),
      topics.schedule(UAI, 'salle-101', 'lighting'),
      topics.reported(UAI, 'batiment-b', 'ventilation'),
      topics.gatewayStatus(UAI, 'gw-1'),
    ].map(({ kind, topic, retain, qos }) => ({ kind, topic, retain, qos }));
    expect(built).toEqual([
      { kind: 'bridge-status', topic: 'sobriete/v1/bridge/status', retain: true, qos: 1 },
      { kind: 'desired', topic: 'sobriete/v1/0670080Y/salle-101/heating/desired', retain: true, qos: 1 },
      { kind: 'schedule', topic: 'sobriete/v1/0670080Y/salle-101/lighting/schedule', retain: true, qos: 1 },
      {
        kind: 'reported',
        topic: 'sobriete/v1/0670080Y/batiment-b/ventilation/reported',
        retain: true,
        qos: 1,
      },
      { kind: 'gateway-status', topic: 'sobriete/v1/0670080Y/gateway/gw-1/status', retain: true, qos: 1 },
    ]);
    expect(TOPIC_DELIVERY['bridge-status'].lastWill).toBe(true);
    expect(TOPIC_DELIVERY['gateway-status'].lastWill).toBe(true);
    expect(TOPIC_DELIVERY.desired.lastWill).toBe(false);
  });

  it('uses a configured prefix, and builds the wildcard filters from it', () => {
    const custom = new MqttTopics('region-ge/sobriete/v1');
    expect(custom.desired(UAI, 'z', 'heating').topic).toBe(
      'region-ge/sobriete/v1/0670080Y/z/heating/desired',
    );
    expect(custom.allReportedFilter()).toBe('region-ge/sobriete/v1/+/+/+/reported');
    expect(custom.allGatewayStatusFilter()).toBe('region-ge/sobriete/v1/+/gateway/+/status');
    expect(custom.schoolFilter(UAI, 'schedule')).toBe('region-ge/sobriete/v1/0670080Y/+/+/schedule');
  });

  it.each([
    ['a+b', 'contains an MQTT wildcard or separator (+, #, /)'],
    ['a#', 'contains an MQTT wildcard or separator (+, #, /)'],
    ['a/b', 'contains an MQTT wildcard or separator (+, #, /)'],
    ['', 'is empty'],
    ['$SYS', 'starts with $ (reserved for broker topics)'],
    ['a\u0000', 'contains a control character'],
    [' a', 'starts or ends with white space'],
  ])('refuses zone id %j: %s', (zone, reason) => {
    expect(topicSegmentProblem(zone)).toBe(reason);
    const error = thrown(() => topics.desired(UAI, zone, 'heating'));
    expect(error.problems).toEqual([
      { code: 'bad-topic-segment', message: `zone "${zone}" ${reason}`, where: 'mqtt topic zone' },
    ]);
  });

  it('refuses the reserved zone "gateway", bad UAIs, unknown functions, gateway ids with wildcards', () => {
    expect(thrown(() => topics.reported(UAI, 'gateway', 'heating')).problems[0]?.message).toBe(
      'zone "gateway" is reserved for gateway, meter and outdoor topics',
    );
    expect(thrown(() => topics.reported(UAI, 'meter', 'heating')).problems[0]?.code).toBe(
      'bad-topic-segment',
    );
    expect(thrown(() => topics.reported(UAI, 'outdoor', 'heating')).problems[0]?.code).toBe(
      'bad-topic-segment',
    );
    expect(thrown(() => topics.desired('0670080A', 'z', 'heating')).problems[0]).toEqual({
      code: 'bad-uai',
      message: '"0670080A" is not a valid UAI (upper case, check letter)',
      where: 'mqtt topic uai',
    });
    expect(thrown(() => topics.desired('0670080y', 'z', 'heating')).problems[0]?.code).toBe('bad-uai');
    // @ts-expect-error: 'cooling' is not a ZoneFunction; the run-time check matters for untyped callers
    expect(thrown(() => topics.desired(UAI, 'z', 'cooling')).problems[0]?.message).toBe(
      'function "cooling" is not one of heating, lighting, ventilation',
    );
    expect(thrown(() => topics.gatewayStatus(UAI, 'gw/+')).problems[0]?.where).toBe('mqtt topic gateway');
  });

  it('refuses prefixes that would break matching', () => {
    expect(thrown(() => new MqttTopics('sobriete/v1/')).problems[0]).toEqual({
      code: 'bad-topic-prefix',
      message: 'topic prefix "sobriete/v1/" starts or ends with /',
      where: 'mqtt.prefix',
    });
    expect(thrown(() => new MqttTopics('sobriete/+')).problems[0]?.message).toBe(
      'topic prefix "sobriete/+" has a level "+" that contains an MQTT wildcard or separator (+, #, /)',
    );
  });
});

describe('parse', () => {
  it('is the inverse of the builders', () => {
    expect(topics.parse('sobriete/v1/bridge/status')).toEqual({ kind: 'bridge-status' });
    expect(topics.parse('sobriete/v1/0670080Y/salle-101/heating/desired')).toEqual({
      kind: 'desired',
      uai: UAI,
      zone: 'salle-101',
      function: 'heating',
    });
    expect(topics.parse('sobriete/v1/0750654D/cdi/lighting/reported')).toEqual({
      kind: 'reported',
      uai: OTHER_UAI,
      zone: 'cdi',
      function: 'lighting',
    });
    expect(topics.parse('sobriete/v1/0670080Y/gateway/gw-1/status')).toEqual({
      kind: 'gateway-status',
      uai: UAI,
      gateway: 'gw-1',
    });
  });

  it.each([
    'other/v1/bridge/status',
    'sobriete/v1/0670080Y/z/cooling/desired',
    'sobriete/v1/0670080A/z/heating/desired',
    'sobriete/v1/0670080Y/z/heating/set',
    'sobriete/v1/0670080Y/gateway/gw-1/reported',
    'sobriete/v1/0670080Y/z/heating/desired/extra',
    'sobriete/v1/bridge',
  ])('returns null outside the contract: %s', (topic) => {
    expect(topics.parse(topic)).toBeNull();
  });
});

describe('payload schemas (decode)', () => {
  const bytes = (value: unknown): Uint8Array => Buffer.from(JSON.stringify(value));
  const heatingDesired = 'sobriete/v1/0670080Y/salle-101/heating/desired';

  it('accepts a valid desired state and keeps extra reason fields, drops unknown top-level keys', () => {
    const decoded = topics.decode(
      heatingDesired,
      bytes({ ...desired, reason: { ...desired.reason, gap_hours: 2, extra: 'kept' }, junk: 1 }),
    );
    expect(decoded).toEqual({
      ok: true,
      parsed: { kind: 'desired', uai: UAI, zone: 'salle-101', function: 'heating' },
      payload: { ...desired, reason: { ...desired.reason, gap_hours: 2, extra: 'kept' } },
    });
  });

  it('reads an empty payload as a cleared retained message', () => {
    expect(topics.decode(heatingDesired, new Uint8Array())).toEqual({
      ok: true,
      parsed: { kind: 'desired', uai: UAI, zone: 'salle-101', function: 'heating' },
      payload: null,
    });
  });

  it.each([
    ['a lighting mode for heating', heatingDesired, { ...desired, mode: 'on' }, '$.mode'],
    [
      'a heating mode for lighting',
      'sobriete/v1/0670080Y/cdi/lighting/desired',
      { ...desired, mode: 'eco', setpoint_c: undefined },
      '$.mode',
    ],
    [
      'a setpoint for lighting',
      'sobriete/v1/0670080Y/cdi/lighting/desired',
      { ...desired, mode: 'on' },
      '$.setpoint_c',
    ],
    ['rev 0', heatingDesired, { ...desired, rev: 0 }, '$.rev'],
    ['a fractional rev', heatingDesired, { ...desired, rev: 1.5 }, '$.rev'],
    [
      'valid_until before issued_at',
      heatingDesired,
      { ...desired, valid_until: '2026-03-02T06:00:00Z' },
      '$.valid_until',
    ],
    ['a date without time', heatingDesired, { ...desired, issued_at: '2026-03-02' }, '$.issued_at'],
    ['a setpoint of 190 (tenths)', heatingDesired, { ...desired, setpoint_c: 190 }, '$.setpoint_c'],
    ['a reason without rule', heatingDesired, { ...desired, reason: { basis: 'x' } }, '$.reason.rule'],
  ])('refuses %s, naming the JSON path', (_label, topic, payload, path) => {
    const decoded = topics.decode(topic, bytes(payload));
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.problem.code).toBe('mqtt-invalid-payload');
    expect(decoded.problem.where).toBe(`${topic} ${path}`);
  });

  const schedule = {
    issued_at: '2026-03-02T06:00:00Z',
    valid_until: '2026-03-04T06:00:00Z',
    entries: [
      { from: '2026-03-02T06:30:00Z', mode: 'comfort', setpoint_c: 19 },
      { from: '2026-03-02T16:00:00Z', mode: 'eco', setpoint_c: 16 },
    ],
    fallback_mode: 'eco',
  };
  const heatingSchedule = 'sobriete/v1/0670080Y/salle-101/heating/schedule';

  it('accepts a 48 h schedule', () => {
    const decoded = topics.decode(heatingSchedule, bytes(schedule));
    expect(decoded).toEqual({
      ok: true,
      parsed: { kind: 'schedule', uai: UAI, zone: 'salle-101', function: 'heating' },
      payload: schedule,
    });
  });

  it.each([
    ['a comfort fallback', { ...schedule, fallback_mode: 'comfort' }, '$.fallback_mode'],
    ['a comfort_1 fallback', { ...schedule, fallback_mode: 'comfort_1' }, '$.fallback_mode'],
    ['more than 48 h', { ...schedule, valid_until: '2026-03-04T06:00:01Z' }, '$.valid_until'],
    ['unsorted entries', { ...schedule, entries: [...schedule.entries].reverse() }, '$.entries[1].from'],
    [
      'an entry at valid_until',
      { ...schedule, entries: [{ from: '2026-03-04T06:00:00Z', mode: 'eco' }] },
      '$.entries[0].from',
    ],
    [
      'a lighting mode in an entry',
      { ...schedule, entries: [{ from: '2026-03-02T07:00:00Z', mode: 'on' }] },
      '$.entries[0].mode',
    ],
  ])('refuses a schedule with %s', (_label, payload, path) => {
    const decoded = topics.decode(heatingSchedule, bytes(payload));
    expect(decoded.ok ? 'accepted' : decoded.problem.where).toBe(`${heatingSchedule} ${path}`);
  });

  it('accepts reported, bridge and gateway status; refuses a bad source', () => {
    const reported = {
      applied_rev: 7,
      mode: 'eco',
      setpoint_c: 16,
      measured_c: 17.4,
      source: 'manual',
      ts: '2026-03-02T08:00:00+01:00',
    };
    const topic = 'sobriete/v1/0670080Y/salle-101/heating/reported';
    expect(topics.decode(topic, bytes(reported))).toMatchObject({ ok: true, payload: reported });
    expect(topics.decode(topic, bytes({ ...reported, source: 'cloud' }))).toMatchObject({
      ok: false,
      problem: { code: 'mqtt-invalid-payload', where: `${topic} $.source` },
    });
    const bridge = { state: 'online', version: '0.1.0', ts: '2026-03-02T06:00:00.000Z' };
    expect(topics.decode('sobriete/v1/bridge/status', bytes(bridge))).toMatchObject({
      ok: true,
      payload: bridge,
    });
    expect(
      topics.decode('sobriete/v1/0670080Y/gateway/gw-1/status', bytes({ state: 'offline' })),
    ).toMatchObject({
      ok: true,
      payload: { state: 'offline' },
    });
  });

  it('reports malformed JSON and foreign topics', () => {
    expect(topics.decode(heatingDesired, Buffer.from('{"rev":'))).toMatchObject({
      ok: false,
      problem: { code: 'mqtt-malformed-payload', where: heatingDesired },
    });
    expect(topics.decode(heatingDesired, Buffer.from([0xff, 0xfe]))).toMatchObject({
      ok: false,
      problem: { code: 'mqtt-malformed-payload' },
    });
    expect(topics.decode('zigbee2mqtt/x/set', bytes({}))).toEqual({
      ok: false,
      problem: {
        code: 'mqtt-unknown-topic',
        message: '"zigbee2mqtt/x/set" is not a topic of the contract under sobriete/v1',
        where: 'zigbee2mqtt/x/set',
      },
    });
  });
});

describe('encodePayload', () => {
  it('serialises a valid payload and throws on a bug instead of publishing it', () => {
    const topic = topics.desired(UAI, 'salle-101', 'heating');
    expect(JSON.parse(encodePayload(topic, { ...desired, mode: 'eco' }).toString('utf8'))).toEqual({
      ...desired,
      mode: 'eco',
    });
    // @ts-expect-error: 'on' is not a heating mode; the type system catches it, the schema too
    expect(() => encodePayload(topic, { ...desired, mode: 'on' })).toThrow(/mode/);
  });
});

describe('meter and outdoor topics (issue 16)', () => {
  const topics = new MqttTopics();
  const UAI_ = '0670999X';

  it('builds, parses and decodes a meter index and an outdoor temperature, not retained', () => {
    const meter = topics.meterReported(UAI_, 'gaz-chaufferie');
    expect([meter.topic, meter.retain, meter.qos]).toEqual([
      'sobriete/v1/0670999X/meter/gaz-chaufferie/reported',
      false,
      1,
    ]);
    expect(topics.parse(meter.topic)).toEqual({ kind: 'meter-reported', uai: UAI_, meter: 'gaz-chaufferie' });
    const outdoor = topics.outdoorReported(UAI_);
    expect([outdoor.topic, outdoor.retain]).toEqual(['sobriete/v1/0670999X/outdoor/reported', false]);
    expect(topics.parse(outdoor.topic)).toEqual({ kind: 'outdoor-reported', uai: UAI_ });
    const ok = topics.decode(meter.topic, Buffer.from('{"index_kwh":73120.5,"ts":"2026-01-12T06:00:00Z"}'));
    expect(ok).toEqual({
      ok: true,
      parsed: topics.parse(meter.topic),
      payload: { index_kwh: 73120.5, ts: '2026-01-12T06:00:00Z' },
    });
    // A meter named after a zone function is still a meter: the third level decides.
    expect(topics.parse('sobriete/v1/0670999X/meter/heating/reported')).toEqual({
      kind: 'meter-reported',
      uai: UAI_,
      meter: 'heating',
    });
    expect(topics.allMeterFilter()).toBe('sobriete/v1/+/meter/+/reported');
    expect(topics.allOutdoorFilter()).toBe('sobriete/v1/+/outdoor/reported');
  });

  it('refuses a negative index, a temperature out of bounds, a missing ts', () => {
    const meter = topics.meterReported(UAI_, 'elec').topic;
    const outdoor = topics.outdoorReported(UAI_).topic;
    const bad = (topic: string, json: string) => {
      const d = topics.decode(topic, Buffer.from(json));
      return d.ok ? null : d.problem.where;
    };
    expect(bad(meter, '{"index_kwh":-1,"ts":"2026-01-12T06:00:00Z"}')).toBe(`${meter} $.index_kwh`);
    expect(bad(outdoor, '{"temperature_c":75,"ts":"2026-01-12T06:00:00Z"}')).toBe(
      `${outdoor} $.temperature_c`,
    );
    expect(bad(outdoor, '{"temperature_c":5}')).toBe(`${outdoor} $.ts`);
    expect(topics.parse('sobriete/v1/0670999X/outdoor/x/reported')).toBeNull();
  });
});
