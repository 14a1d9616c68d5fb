/**
 * The hostile suite's probe, on its own thread (worker_threads) so that the test thread building
 * and streaming an attack never delays what the probe measures: a 200 MB generator or a 100,000-
 * lesson JSON on the test thread would otherwise show up as "service latency".
 *
 * Plain JavaScript because a worker thread does not inherit vitest's TypeScript transform.
 *
 * What it measures, continuously while a case window is open:
 * - `/healthz` round trips, one after the other every `healthzEveryMs` (5 s timeout each);
 * - the child's RSS from /proc/<pid>/status (VmRSS), every `rssEveryMs`; over `hardCapMb` the
 *   child is SIGKILLed at once (this machine is shared: a service heading for the 3.8 GB of
 *   issue 13 must not take the other engineers' jobs down with it) and the case fails on it;
 * - `scope_energie_event_loop_delay_p99_seconds` from `/metrics` (auditor token), every
 *   `metricsEveryMs`;
 * - one dispatcher transition per window: an override on a heating zone that ends `leadMs`
 *   after the window opens (its end is a transition the dispatcher's timer must publish), and
 *   the arrival of the matching `desired` on a real MQTT subscriber (the demo gateway's
 *   credentials, devices/0670999X.yaml).
 *
 * Messages in: {type:'begin', leadMs, zone}, {type:'end', waitMs}, {type:'retarget', pid, url,
 * mqttUrl}, {type:'stop'}. Messages out: {type:'begun', until, overrideId} | {type:'ended',
 * stats} | {type:'error', message} | {type:'killed', rssKb}.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';

const config = workerData;
let target = { pid: config.pid, url: config.url, mqttUrl: config.mqttUrl };

/** Samples of the open window. */
let window = null;
/** Every desired message seen, by topic: [{at, payload}]. */
const desired = new Map();
let subscriber = null;
let stopped = false;

function now() {
  return Date.now();
}

function readRssKb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) : null;
  } catch {
    return null; // the process is gone
  }
}

async function timedFetch(url, init, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

function connectSubscriber() {
  subscriber?.end(true);
  const client = mqtt.connect(target.mqttUrl, {
    clientId: `hostile-probe-${Math.random().toString(16).slice(2, 10)}`,
    username: config.gateway.username,
    password: config.gateway.password,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 500,
    connectTimeout: 5_000,
  });
  client.on('error', () => {});
  client.on('connect', () => {
    client.subscribe(`${config.prefix}/${config.uai}/+/+/desired`, { qos: 1 });
  });
  client.on('message', (topic, payload) => {
    const at = now();
    let parsed = null;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      parsed = null;
    }
    const list = desired.get(topic) ?? [];
    list.push({ at, payload: parsed });
    // Only the recent history matters to a window; keep memory flat over a long run.
    if (list.length > 200) list.splice(0, list.length - 200);
    desired.set(topic, list);
  });
  subscriber = client;
}

async function healthzLoop() {
  while (!stopped) {
    const w = window;
    if (w) {
      const started = performance.now();
      try {
        const res = await timedFetch(`${target.url}/healthz`, {}, 5_000);
        await res.arrayBuffer();
        if (w === window) {
          if (res.status === 200) w.healthz.push(performance.now() - started);
          else w.healthzFailures++;
        }
      } catch {
        if (w === window) {
          w.healthzFailures++;
          w.healthz.push(performance.now() - started);
        }
      }
    }
    await samplingPause(config.healthzEveryMs);
  }
}

async function rssLoop() {
  while (!stopped) {
    const rss = readRssKb(target.pid);
    const w = window;
    if (w) {
      if (rss === null) w.dead = true;
      else {
        w.rssPeakKb = Math.max(w.rssPeakKb, rss);
        if (rss > config.hardCapMb * 1024 && !w.killed) {
          w.killed = true;
          try {
            process.kill(target.pid, 'SIGKILL');
          } catch {}
          parentPort.postMessage({ type: 'killed', rssKb: rss });
        }
      }
    }
    await samplingPause(config.rssEveryMs);
  }
}

async function metricsLoop() {
  while (!stopped) {
    const w = window;
    if (w) {
      try {
        const res = await timedFetch(
          `${target.url}/metrics`,
          { headers: { Authorization: `Bearer ${config.metricsToken}` } },
          5_000,
        );
        const text = await res.text();
        if (w === window) {
          const match = /^scope_energie_event_loop_delay_p99_seconds(?:\{[^}]*\})? (\S+)$/m.exec(text);
          if (match) w.loopDelay.push(Number(match[1]));
          else w.loopDelayMissing++;
        }
      } catch {
        if (w === window) w.loopDelayMissing++;
      }
    }
    await samplingPause(config.metricsEveryMs);
  }
}

/** The period between two samples of a measurement loop (or polls of an arrival): never a synchronisation. */
function samplingPause(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Creates the override whose end is the window's transition. */
async function scheduleTransition(zone, leadMs) {
  // Whole milliseconds in ISO: the override's `until` is kept to the millisecond.
  const until = now() + leadMs;
  const res = await timedFetch(
    `${target.url}/api/overrides`,
    {
      method: 'POST',
      headers: { Authorization: `Bearer ${config.managerToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        uai: config.uai,
        zone,
        function: 'heating',
        mode: 'frost',
        setpoint_c: 8,
        until: new Date(until).toISOString(),
        reason: 'hostile-input suite: a transition scheduled during the attack',
      }),
    },
    10_000,
  );
  const body = await res.json().catch(() => null);
  if (res.status !== 201) throw new Error(`POST /api/overrides: ${res.status} ${JSON.stringify(body)}`);
  return { until: Date.parse(body.until), overrideId: body.id };
}

/**
 * The end of the override: the first `desired` on the zone's heating topic after the override's
 * own (reason.override_id) whose reason is no longer that override.
 */
function transitionArrival(w) {
  const list = desired.get(`${config.prefix}/${config.uai}/${w.zone}/heating/desired`) ?? [];
  const start = list.findIndex((m) => m.payload?.reason?.override_id === w.overrideId);
  if (start < 0) return null;
  const end = list.slice(start + 1).find((m) => m.payload?.reason?.override_id !== w.overrideId);
  return end ? { at: end.at, issuedAt: Date.parse(end.payload?.issued_at ?? '') } : null;
}

parentPort.on('message', async (message) => {
  try {
    if (message.type === 'begin') {
      window = {
        zone: message.zone,
        healthz: [],
        healthzFailures: 0,
        loopDelay: [],
        loopDelayMissing: 0,
        rssBaselineKb: readRssKb(target.pid) ?? 0,
        rssPeakKb: 0,
        dead: false,
        killed: false,
        until: null,
        overrideId: null,
        openedAt: now(),
      };
      window.rssPeakKb = window.rssBaselineKb;
      const { until, overrideId } = await scheduleTransition(message.zone, message.leadMs);
      window.until = until;
      window.overrideId = overrideId;
      parentPort.postMessage({ type: 'begun', until, overrideId });
    } else if (message.type === 'end') {
      const w = window;
      if (!w) throw new Error('end without begin');
      // Wait for the transition up to `waitMs` after its instant (only to report how late it was).
      let arrival = transitionArrival(w);
      while (arrival === null && w.until !== null && now() < w.until + message.waitMs) {
        await samplingPause(20);
        arrival = transitionArrival(w);
      }
      window = null;
      parentPort.postMessage({
        type: 'ended',
        stats: {
          healthz: {
            count: w.healthz.length,
            failures: w.healthzFailures,
            p50Ms: percentile(w.healthz, 50),
            p99Ms: percentile(w.healthz, 99),
            maxMs: w.healthz.length ? Math.max(...w.healthz) : null,
          },
          loopDelay: {
            samples: w.loopDelay.length,
            missing: w.loopDelayMissing,
            maxSeconds: w.loopDelay.length ? Math.max(...w.loopDelay) : null,
          },
          rss: { baselineKb: w.rssBaselineKb, peakKb: w.rssPeakKb },
          dead: w.dead,
          killed: w.killed,
          transition: {
            zone: w.zone,
            until: w.until,
            latencyMs: arrival ? arrival.at - w.until : null,
            issuedLatencyMs: arrival && Number.isFinite(arrival.issuedAt) ? arrival.issuedAt - w.until : null,
          },
          windowMs: now() - w.openedAt,
        },
      });
    } else if (message.type === 'retarget') {
      target = { pid: message.pid, url: message.url, mqttUrl: message.mqttUrl };
      desired.clear();
      connectSubscriber();
      parentPort.postMessage({ type: 'retargeted' });
    } else if (message.type === 'stop') {
      stopped = true;
      window = null;
      subscriber?.end(true);
      parentPort.postMessage({ type: 'stopped' });
      parentPort.close();
    }
  } catch (error) {
    window = message.type === 'begin' ? null : window;
    parentPort.postMessage({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
    });
  }
});

connectSubscriber();
void healthzLoop();
void rssLoop();
void metricsLoop();
parentPort.postMessage({ type: 'ready' });
