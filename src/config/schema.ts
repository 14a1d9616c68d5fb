/**
 * The service settings: one zod schema gives the types, the validation and the documentation
 * (each `.describe()` ends up in the generated JSON Schema and mirrors `config/default.yaml`).
 * Every field has a default or is optional, so an empty configuration starts the embedded demo.
 * Relative paths are resolved against the working directory of the process.
 */
import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { isValidTopicName } from '../domain/mqtt-filters.js';

const relativeOrAbsolutePath = z.string().min(1);

/** `postgres://…` or `postgresql://…`: the only external store (architecture.md, "Real components"). */
const databaseUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'expected a PostgreSQL URL: postgres://user:password@host:5432/database');

const mqttUrl = z
  .string()
  .regex(/^(mqtts?|wss?|tcp|ssl):\/\/\S+$/, 'expected a broker URL: mqtt://host:1883 or mqtts://host:8883');

const httpUrl = z.string().regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL');

const cronExpression = z
  .string()
  .superRefine((expression, ctx) => {
    const result = validateDetailed(expression);
    if (!result.valid) {
      const reasons = result.errors.map((e) => e.message).join('; ');
      ctx.addIssue({
        code: 'custom',
        message: `"${expression}" is not a valid cron expression: ${reasons}`,
        params: { code: 'bad-cron' },
      });
    }
  })
  .describe(
    'A node-cron expression: five fields (minute hour day month weekday), or six with seconds first.',
  );

/** An environment variable's name, for secrets that must not sit in a file others read. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1').describe('Address to listen on; 0.0.0.0 to accept any.'),
    port: z.int().min(0).max(65535).default(8080).describe('HTTP port (0 = any free port, for tests).'),
    body_limit_mb: z
      .number()
      .positive()
      .max(1024)
      .default(50)
      .describe(
        'Largest timetable import body (a year-long multi-site export is ~31 MB: docs/performance.md, "XML parsers").',
      ),
    form_body_limit_kb: z
      .int()
      .positive()
      .max(10_240)
      .default(64)
      .describe(
        'Largest body of every other route (JSON APIs, /oauth/token, /connexion, dashboard forms): an override or a login is under 2 kB.',
      ),
    public_url: httpUrl.optional().describe('URL clients use to reach the service, behind a reverse proxy.'),
    stop_timeout_s: z
      .number()
      .min(1)
      .max(300)
      .default(10)
      .describe(
        "On SIGTERM/SIGINT the service hands its leases over, says offline and closes; past this it exits anyway (keep it under the orchestrator's grace period: 30 s in Kubernetes, 90 s in systemd).",
      ),
    max_event_loop_delay_ms: z
      .number()
      .positive()
      .max(60_000)
      .default(200)
      .describe(
        '/readyz answers 503 (missing "event-loop-delay") while the p99 event-loop delay of the last 10 s is above this.',
      ),
  })
  .prefault({});

const storageSchema = z
  .strictObject({
    data_dir: relativeOrAbsolutePath
      .default('./data')
      .describe('SQLite file, generated clients and keys live here.'),
    database_url: databaseUrl.optional().describe('PostgreSQL instead of SQLite when set.'),
    statement_timeout_ms: z
      .int()
      .min(100)
      .max(600_000)
      .default(10_000)
      .describe(
        'PostgreSQL: the server cancels a statement running longer (statement_timeout): a stuck query is a failure, not a hang.',
      ),
    lock_timeout_ms: z
      .int()
      .min(100)
      .max(600_000)
      .default(5_000)
      .describe(
        'PostgreSQL: a statement waiting longer than this for a row or table lock fails (lock_timeout).',
      ),
    query_timeout_ms: z
      .int()
      .min(100)
      .max(600_000)
      .default(15_000)
      .describe(
        'PostgreSQL: the client gives up on an answer after this (a frozen or unreachable server never answers); above statement_timeout_ms so the server normally says first.',
      ),
    connect_timeout_ms: z
      .int()
      .min(100)
      .max(600_000)
      .default(5_000)
      .describe(
        'PostgreSQL: longest wait for a new connection (TCP, TLS and startup), then the query fails.',
      ),
  })
  .prefault({});

/** Access control on an external broker, kept from devices/ (docs/mqtt.md, "Which broker enforces what"). */
const mqttProvisioningSchema = z
  .strictObject({
    broker: z
      .enum(['none', 'mosquitto', 'emqx'])
      .default('none')
      .describe(
        'none: the operator manages the external broker; mosquitto: reconcile its dynamic-security plugin; emqx: maintain the PostgreSQL views EMQX authenticates and authorises from.',
      ),
    url: mqttUrl
      .optional()
      .describe(
        'Where the dynamic-security admin connects (default mqtt.url), e.g. a loopback-only listener.',
      ),
    admin_username: z
      .string()
      .min(1)
      .default('scope-energie-admin')
      .describe('Mosquitto account allowed to publish on $CONTROL/dynamic-security/#.'),
    admin_password_file: relativeOrAbsolutePath.optional().describe('File holding the admin password.'),
    admin_password_env: envName.optional().describe('Environment variable holding the admin password.'),
    manage_bridge_login: z
      .boolean()
      .default(true)
      .describe(
        "Also create the bridge's own login (mqtt.username, with mqtt.password_file/env) and its role.",
      ),
    batch_size: z
      .int()
      .min(1)
      .max(1_000)
      .default(100)
      .describe('Dynamic-security commands per MQTT message.'),
    timeout_s: z
      .int()
      .min(1)
      .max(300)
      .default(10)
      .describe('Longest wait for the broker to answer one message.'),
    rotation_overlap_hours: z
      .number()
      .min(0)
      .max(24 * 90)
      .default(168)
      .describe(
        'How long `gateway credentials --rotate` keeps the replaced password valid (default one week).',
      ),
    emqx_pbkdf2_iterations: z
      .int()
      .min(1_000)
      .max(10_000_000)
      .default(4_096)
      .describe(
        "PBKDF2-SHA256 iterations of the EMQX hash; must equal EMQX's password_hash_algorithm.iterations.",
      ),
  })
  .prefault({})
  .superRefine((provisioning, ctx) => {
    if (provisioning.admin_password_file !== undefined && provisioning.admin_password_env !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['admin_password_env'],
        message: 'give the admin password either by admin_password_file or by admin_password_env, not both',
        params: { code: 'conflicting-settings' },
      });
    }
  });

const mqttSchema = z
  .strictObject({
    prefix: z
      .string()
      .regex(
        /^[^/#+\s][^#+\s]*[^/#+\s]$|^[^/#+\s]$/,
        'a topic prefix: no wildcard, no leading or trailing "/"',
      )
      .default('sobriete/v1')
      .describe('Topic prefix of the MQTT contract (docs/mqtt.md, "Topics").'),
    embedded: z
      .strictObject({
        enabled: z
          .union([z.boolean(), z.literal('auto')])
          .default('auto')
          .describe('Run the in-process aedes broker; "auto" = yes unless mqtt.url names an external one.'),
        host: z.string().min(1).default('127.0.0.1').describe('Address the embedded broker listens on.'),
        port: z
          .int()
          .min(0)
          .max(65535)
          .default(1883)
          .describe('TCP port of the embedded broker; 0 = no TCP listener (in-process clients only).'),
        max_packet_kb: z
          .int()
          .min(1)
          .max(256 * 1024)
          .default(64)
          .describe(
            'Largest MQTT packet a gateway may send, in KiB (fixed header included); a larger one closes its connection before the payload is read. A reported message is ~200 bytes (docs/mqtt.md, "Limits").',
          ),
      })
      .prefault({}),
    url: mqttUrl.optional().describe('External broker (Mosquitto, EMQX…); also MQTT_URL.'),
    username: z.string().min(1).optional(),
    password_file: relativeOrAbsolutePath.optional().describe('File holding the broker password.'),
    password_env: envName.optional().describe('Environment variable holding the broker password.'),
    keepalive_s: z
      .int()
      .min(1)
      .max(3_600)
      .default(30)
      .describe(
        'MQTT keepalive of the bridge: the broker fires its Last Will after 1.5 times this without traffic.',
      ),
    reconnect_max_s: z
      .number()
      .min(0.5)
      .max(300)
      .default(5)
      .describe(
        'Longest wait between two reconnect attempts to the broker (exponential back-off from 0.5 s, ±20 % jitter): a broker back after an outage is used within this.',
      ),
    max_messages_per_second: z
      .int()
      .min(0)
      .default(10_000)
      .describe(
        "Publish rate cap (0 = none, window only). Mosquitto's default limits drop QoS 1 messages to a subscriber that falls behind: keep the cap unless the broker's max_inflight_messages/max_queued_messages are raised (docs/performance.md).",
      ),
    echo_limit: z
      .int()
      .min(0)
      .default(0)
      .describe(
        "Pacing by echo (0 = off): the bridge subscribes to its own desired/schedule topics and keeps at most this many of its messages not yet received back, so a subscriber as fast as the bridge never has more queued (500 stays under Mosquitto's default max_queued_messages 1000). With it, max_messages_per_second may be 0 on Mosquitto's default limits; the bridge's ACL must let it subscribe to those topics (docs/performance.md, \"Bridge publication\").",
      ),
    adaptive_window: z
      .boolean()
      .default(false)
      .describe(
        'Adapt the publish window (1–16 QoS 1 messages awaiting their PUBACK) to the broker from PUBACK round trips (LEDBAT, RFC 6817): fewer in flight when the broker queues. A PUBACK does not show a subscriber\'s backlog: keep max_messages_per_second or echo_limit on Mosquitto\'s default limits (docs/performance.md, "Issue 18").',
      ),
    reported_max_per_minute: z
      .int()
      .min(1)
      .default(600)
      .describe(
        'Live `reported` messages accepted per gateway and minute (token bucket, bursts up to this many); the excess is dropped and counted. A gateway reports on each new rev and every few minutes per zone function (docs/gateway-contract.md).',
      ),
    tls: z
      .strictObject({
        ca_file: relativeOrAbsolutePath.optional(),
        cert_file: relativeOrAbsolutePath.optional(),
        key_file: relativeOrAbsolutePath.optional(),
        reject_unauthorized: z.boolean().default(true),
      })
      .prefault({})
      .superRefine((tls, ctx) => {
        if ((tls.cert_file === undefined) !== (tls.key_file === undefined)) {
          ctx.addIssue({
            code: 'custom',
            path: [tls.cert_file === undefined ? 'cert_file' : 'key_file'],
            message: 'a client certificate needs both cert_file and key_file',
            params: { code: 'incomplete-tls' },
          });
        }
      }),
    provisioning: mqttProvisioningSchema,
  })
  .prefault({})
  .superRefine((mqtt, ctx) => {
    if (mqtt.password_file !== undefined && mqtt.password_env !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['password_env'],
        message: 'give the broker password either by password_file or by password_env, not both',
        params: { code: 'conflicting-settings' },
      });
    }
    if (mqtt.embedded.enabled === true && mqtt.url !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message:
          'mqtt.url names an external broker while mqtt.embedded.enabled is true: the bridge publishes to one broker; set embedded.enabled to false or auto',
        params: { code: 'conflicting-settings' },
      });
    }
  })
  .transform((mqtt) => ({
    ...mqtt,
    embedded: {
      ...mqtt.embedded,
      enabled: mqtt.embedded.enabled === 'auto' ? mqtt.url === undefined : mqtt.embedded.enabled,
    },
  }));

const remoteSortieSchema = z.strictObject({
  url: httpUrl.describe('Base URL of the remote SCOPE-SORTIE (…/scope/sortie/v1).'),
  token_url: httpUrl.describe('Its OAuth2 token endpoint (client_credentials).'),
  client_id: z.string().min(1),
  client_secret_env: envName.describe('Environment variable holding the client secret.'),
});

const sortieSchema = z
  .strictObject({
    source: z
      .union([z.literal('embedded'), remoteSortieSchema], {
        error: 'expected "embedded" or {url, token_url, client_id, client_secret_env}',
      })
      .default('embedded')
      .describe('Where the bridge reads occupancy: this service\'s own SORTIE ("embedded") or a remote one.'),
    timeout_ms: z.int().min(100).max(300_000).default(10_000).describe('Per HTTP request to SORTIE.'),
    retries: z.int().min(0).max(10).default(3).describe('Retries of a failed SORTIE request, with backoff.'),
  })
  .prefault({});

const syncSchema = z
  .strictObject({
    // Interval jobs run in UTC, never in Europe/Paris: node-cron 4.6 with a Paris time zone skipped
    // the whole first 02:xx hour on the autumn switch (4 runs instead of 8 between 00:50Z and
    // 02:50Z on 2026-10-25), while UTC fired 8 of 8 on both switch days
    // (docs/architecture.md, "node-cron and daylight-saving time").
    cron: cronExpression.default('*/15 * * * *').describe('When the bridge pulls SORTIE; evaluated in UTC.'),
    stale_after_hours: z
      .number()
      .positive()
      .max(24 * 30)
      .default(24)
      .describe('/readyz reports not ready when the last successful sync is older than this.'),
    concurrency: z
      .int()
      .min(1)
      .max(64)
      .default(4)
      .describe(
        'Schools pulled at once during a full sync (each pull waits mostly on the network and the store).',
      ),
  })
  .prefault({});

const clusterSchema = z
  .strictObject({
    instance_id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'letters, digits, "_", "." and "-", at most 64')
      .optional()
      .describe(
        'Name of this bridge instance among those sharing one database; default host name and process id ("local" on SQLite). Must differ between live instances.',
      ),
    takeover_s: z
      .number()
      .min(1)
      .max(600)
      .default(30)
      .describe(
        "Longest time a dead or partitioned instance's schools stay without a publisher (lease TTL is half of it, renewal every sixth).",
      ),
  })
  .prefault({});

const entreeSchema = z
  .strictObject({
    strict_json: z
      .boolean()
      .default(false)
      .describe('Refuse unknown fields in native JSON timetables (warn otherwise).'),
    partner_key_file: relativeOrAbsolutePath
      .optional()
      .describe('Key for the EDT encrypted container (format edt-chiffre); off when absent.'),
    max_zip_entries: z
      .int()
      .positive()
      .max(100_000)
      .default(1000)
      .describe('Zip-bomb guard for UDT archives (docs/formats.md, "XML and zip archives").'),
    max_uncompressed_mb: z
      .number()
      .positive()
      .max(10_240)
      .default(200)
      .describe('Zip-bomb guard: largest total size once decompressed.'),
    max_xml_depth: z
      .int()
      .positive()
      .max(10_000)
      .default(64)
      .describe('Deepest XML nesting accepted (EDT, STS and UDT exports nest fewer than 10 levels).'),
    max_xml_elements: z
      .int()
      .positive()
      .max(100_000_000)
      .default(2_000_000)
      .describe(
        'Most XML elements in one document (a synthetic 31 MB EDT export of 100,000 lessons has ~520,000).',
      ),
    max_occurrences: z
      .int()
      .positive()
      .max(100_000_000)
      .default(500_000)
      .describe(
        'Most lesson occurrences one import may expand to (60 rooms busy 40 one-hour slots a week for 36 weeks make 86,400).',
      ),
    max_occurrences_per_rule: z
      .int()
      .positive()
      .max(1_000_000)
      .default(2_000)
      .describe(
        'Most occurrences one ICS RRULE may yield within its expansion window (2 years from DTSTART); sub-daily rules are refused.',
      ),
    worker: z
      .strictObject({
        threads: z
          .int()
          .min(1)
          .max(64)
          .default(1)
          .describe(
            'Worker threads that read imports off the main event loop (one leaves the other core of a 2-core host to the control plane; imports queue meanwhile).',
          ),
        max_heap_mb: z
          .int()
          .min(32)
          .max(65_536)
          .default(512)
          .describe('Heap limit of each import worker; a task over it is ended (413 import-memory-limit).'),
        task_timeout_s: z
          .number()
          .positive()
          .max(3600)
          .default(30)
          .describe(
            'Wall-clock budget of one import task; over it the worker is ended (422 import-time-limit).',
          ),
      })
      .prefault({})
      .describe('The worker pool that isolates import parsing from the control plane.'),
  })
  .prefault({});

const calendarSchema = z
  .strictObject({
    zone: z
      .enum(['A', 'B', 'C', 'Corse'])
      .default('B')
      .describe(
        'School-holiday zone; Grand Est (Nancy-Metz, Reims, Strasbourg) is zone B (docs/calendar.md, "Holidays").',
      ),
    holidays_file: relativeOrAbsolutePath
      .optional()
      .describe('Local copy of the zone ICS or fr-en-calendrier-scolaire records, used when set.'),
  })
  .prefault({});

const authSchema = z
  .strictObject({
    jwt_ttl_s: z
      .int()
      .min(60)
      .max(86_400)
      .default(3600)
      .describe('Lifetime of tokens from POST /oauth/token, in seconds.'),
    jwt_issuer: z
      .string()
      .min(1)
      .default('scope-energie')
      .describe('`iss` of issued tokens, checked on use.'),
    jwt_audience: z
      .string()
      .min(1)
      .default('scope-energie')
      .describe('`aud` of issued tokens, checked on use.'),
    signing_key_file: relativeOrAbsolutePath
      .optional()
      .describe('HS256 key (≥ 32 bytes); generated once in the data directory when absent.'),
    throttle: z
      .strictObject({
        max_failures: z
          .int()
          .min(1)
          .max(10_000)
          .default(10)
          .describe(
            'Failed logins (/connexion) or token requests (/oauth/token) allowed per client id and per remote address within window_s; beyond, 429 until the window ends.',
          ),
        window_s: z
          .int()
          .min(1)
          .max(86_400)
          .default(300)
          .describe('Length of the failure-counting window, in seconds.'),
        max_tracked: z
          .int()
          .min(100)
          .max(1_000_000)
          .default(10_000)
          .describe(
            'Most client ids and most addresses remembered at once (each); the oldest are forgotten first, so memory stays bounded.',
          ),
      })
      .prefault({}),
  })
  .prefault({});

const telemetrySchema = z
  .strictObject({
    raw_retention_days: z
      .int()
      .min(3)
      .max(400)
      .default(35)
      .describe(
        'Days raw samples are kept (at least; PostgreSQL drops a month partition once all of it is older). Hourly aggregates stay 13 months, the monthly roll-up 5 years (décret BACS, R175-3; docs/telemetry.md).',
      ),
    hourly_retention_months: z
      .int()
      .min(13)
      .max(120)
      .default(13)
      .describe('Complete months of hourly aggregates kept before the current one (at least 13).'),
    monthly_retention_years: z
      .int()
      .min(5)
      .max(50)
      .default(5)
      .describe('Years of monthly roll-up kept (at least 5, R175-3).'),
    hold_minutes: z
      .number()
      .min(1)
      .max(120)
      .default(15)
      .describe(
        "A measurement holds from its ts until the zone's next report, at most this long; after it the time is unmeasured.",
      ),
    max_late_hours: z
      .number()
      .min(0)
      .max(168)
      .default(48)
      .describe(
        'Reports older than this (a replayed buffer) are refused and counted; younger ones are placed at their ts.',
      ),
    batch_size: z.int().min(1).max(10_000).default(500).describe('Samples written per transaction.'),
    flush_ms: z
      .int()
      .min(50)
      .max(60_000)
      .default(1_000)
      .describe('Longest wait before a partial batch is written.'),
    aggregate_every_minutes: z
      .int()
      .min(1)
      .max(60)
      .default(10)
      .describe('How often completed hours are aggregated (and late samples re-aggregated).'),
  })
  .prefault({});

const comfortSchema = z
  .strictObject({
    cold_tolerance_c: z
      .number()
      .min(0)
      .max(5)
      .default(1.0)
      .describe(
        'Occupied time is cold when measured < target − this (target: the setpoint of the plan segment in force).',
      ),
    overheat_tolerance_c: z
      .number()
      .min(0)
      .max(5)
      .default(1.0)
      .describe('Occupied time is overheated when measured > the legal cap (19 °C, R241-26) + this.'),
  })
  .prefault({});

const demoSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Seed the demo lycée 0670999X and its demo clients.'),
    gateway: z.boolean().default(true).describe('Run a simulated gateway for the demo lycée.'),
  })
  .prefault({});

const pathsSchema = z
  .strictObject({
    devices_dir: relativeOrAbsolutePath.default('devices').describe('One devices/{uai}.yaml per school.'),
    rules_dir: relativeOrAbsolutePath.default('rules').describe('The energy rules, rules/*.yaml.'),
  })
  .prefault({});

const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});

/** The audit log's anchoring outside the database (issue 21, docs/audit.md). */
const auditSchema = z
  .strictObject({
    checkpoint_interval_s: z
      .int()
      .min(0)
      .max(31 * 86_400)
      .default(3600)
      .describe(
        'Sign the audit head (seq, hash, instant) and write it to the sinks every N seconds; 0: only on demand (API, `audit checkpoint`).',
      ),
    verify_interval_s: z
      .int()
      .min(0)
      .max(86_400)
      .default(3600)
      .describe(
        'Walk the whole chain against the newest checkpoint every N seconds (~22 µs per entry measured; entries are also checked after each append); 0: not periodically.',
      ),
    signing_key_file: relativeOrAbsolutePath
      .optional()
      .describe(
        'Ed25519 private key (PKCS#8 PEM) signing checkpoints; generated in data_dir (mode 0600) when absent.',
      ),
    checkpoint_dir: relativeOrAbsolutePath
      .optional()
      .describe(
        'Directory receiving one file per checkpoint, never overwritten (mount write-once storage here); default <data_dir>/audit-checkpoints.',
      ),
    webhook: z
      .strictObject({
        url: httpUrl.describe('Receives each checkpoint as a JSON POST.'),
        timeout_ms: z.int().min(100).max(60_000).default(5000).describe('Per attempt.'),
        retries: z
          .int()
          .min(0)
          .max(10)
          .default(3)
          .describe('Attempts after the first on a network error, 429 or 5xx.'),
        retry_delay_ms: z
          .int()
          .min(0)
          .max(60_000)
          .default(1000)
          .describe('Wait before the first retry, doubled for each next one.'),
        bearer_token_env: envName
          .optional()
          .describe('Environment variable holding a bearer token for the webhook.'),
      })
      .optional()
      .describe(
        "An HTTP endpoint outside the hub (the auditor's, a timestamping service) receiving every checkpoint.",
      ),
    mqtt: z
      .strictObject({
        url: mqttUrl.describe("The broker keeping the checkpoint (ideally not the hub's own)."),
        topic: z
          .string()
          .min(1)
          .max(256)
          .refine((topic) => isValidTopicName(topic), 'expected a topic name without wildcards')
          .default('scope-energie/audit/checkpoint')
          .describe('Topic on which the last checkpoint is retained (QoS 1).'),
        username: z.string().min(1).optional(),
        password_env: envName.optional().describe('Environment variable holding the password.'),
        timeout_ms: z
          .int()
          .min(100)
          .max(60_000)
          .default(5000)
          .describe('To connect, then to be acknowledged.'),
      })
      .optional()
      .describe('A broker retaining the last checkpoint on a topic: every subscriber gets it at once.'),
  })
  .prefault({});

/** Limits on what the rule files may ask (docs/rules.md, "Exceptions"). */
const rulesPolicySchema = z
  .strictObject({
    exception_max_deviation_c: z
      .number()
      .min(0)
      .max(5)
      .default(2)
      .describe(
        "Largest lift above a legal cap (Code de l'énergie R241-26, R241-27) a rule's exception may carry, °C; an exception also needs approved_by, approved_on and reference.",
      ),
  })
  .prefault({});

/** How long timetable versions and audit entries are kept (docs/audit.md, "Retention"). */
const retentionSchema = z
  .strictObject({
    interval_s: z
      .int()
      .min(0)
      .max(31 * 86_400)
      .default(86_400)
      .describe('Apply the policy every N seconds (and at start); 0: at start only.'),
    timetable_versions: z
      .strictObject({
        keep_versions: z
          .int()
          .min(1)
          .max(1000)
          .default(10)
          .describe(
            'The newest versions of each school kept whatever their age (the current one is never deleted).',
          ),
        keep_months: z
          .int()
          .min(1)
          .max(1200)
          .default(24)
          .describe(
            'Versions imported within this many months are kept; older ones beyond keep_versions are deleted.',
          ),
      })
      .prefault({}),
    audit: z
      .strictObject({
        keep_months: z
          .int()
          .min(60, 'the audit log is kept at least 60 months (docs/audit.md, "Retention")')
          .max(1200)
          .default(72)
          .describe('Audit entries are kept at least this long; never less than 60 months (docs/audit.md).'),
        purge: z
          .boolean()
          .default(true)
          .describe(
            'Purge entries older than keep_months, up to a signed checkpoint taken before the cutoff, as one logged purge (docs/audit.md, "Retention"); false keeps every entry.',
          ),
      })
      .prefault({}),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server: serverSchema,
  storage: storageSchema,
  mqtt: mqttSchema,
  sortie: sortieSchema,
  sync: syncSchema,
  cluster: clusterSchema,
  entree: entreeSchema,
  calendar: calendarSchema,
  auth: authSchema,
  demo: demoSchema,
  paths: pathsSchema,
  clients_file: relativeOrAbsolutePath
    .default('config/clients.yaml')
    .describe('API clients with hashed secrets (see config/clients.example.yaml).'),
  log: logSchema,
  audit: auditSchema,
  telemetry: telemetrySchema,
  comfort: comfortSchema,
  rules: rulesPolicySchema,
  retention: retentionSchema,
});

export type Config = z.output<typeof configSchema>;
/** What a configuration file may contain (every field optional). */
export type ConfigInput = z.input<typeof configSchema>;
export type RemoteSortie = z.output<typeof remoteSortieSchema>;
