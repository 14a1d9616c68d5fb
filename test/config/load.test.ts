import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { InputError } from '../../src/domain/problems.js';

const repoConfigDir = new URL('../../config/', import.meta.url).pathname;

/** The documented defaults, written out by hand (not computed by the schema under test). */
const DEFAULTS = {
  server: {
    host: '127.0.0.1',
    port: 8080,
    body_limit_mb: 50,
    form_body_limit_kb: 64,
    stop_timeout_s: 10,
    max_event_loop_delay_ms: 200,
  },
  storage: {
    data_dir: './data',
    statement_timeout_ms: 10000,
    lock_timeout_ms: 5000,
    query_timeout_ms: 15000,
    connect_timeout_ms: 5000,
  },
  mqtt: {
    prefix: 'sobriete/v1',
    embedded: { enabled: true, host: '127.0.0.1', port: 1883, max_packet_kb: 64 },
    keepalive_s: 30,
    reconnect_max_s: 5,
    max_messages_per_second: 10000,
    echo_limit: 0,
    adaptive_window: false,
    reported_max_per_minute: 600,
    tls: { reject_unauthorized: true },
    provisioning: {
      broker: 'none',
      admin_username: 'scope-energie-admin',
      manage_bridge_login: true,
      batch_size: 100,
      timeout_s: 10,
      rotation_overlap_hours: 168,
      emqx_pbkdf2_iterations: 4096,
    },
  },
  sortie: { source: 'embedded', timeout_ms: 10000, retries: 3 },
  sync: { cron: '*/15 * * * *', stale_after_hours: 24, concurrency: 4 },
  cluster: { takeover_s: 30 },
  entree: {
    strict_json: false,
    max_zip_entries: 1000,
    max_uncompressed_mb: 200,
    max_xml_depth: 64,
    max_xml_elements: 2_000_000,
    max_occurrences: 500_000,
    max_occurrences_per_rule: 2_000,
    worker: { threads: 1, max_heap_mb: 512, task_timeout_s: 30 },
  },
  calendar: { zone: 'B' },
  auth: {
    jwt_ttl_s: 3600,
    jwt_issuer: 'scope-energie',
    jwt_audience: 'scope-energie',
    throttle: { max_failures: 10, window_s: 300, max_tracked: 10_000 },
  },
  demo: { enabled: true, gateway: true },
  paths: { devices_dir: 'devices', rules_dir: 'rules' },
  clients_file: 'config/clients.yaml',
  log: { level: 'info' },
  audit: { checkpoint_interval_s: 3600, verify_interval_s: 3600 },
  rules: { exception_max_deviation_c: 2 },
  retention: {
    interval_s: 86_400,
    timetable_versions: { keep_versions: 10, keep_months: 24 },
    audit: { keep_months: 72, purge: true },
  },
  telemetry: {
    raw_retention_days: 35,
    hourly_retention_months: 13,
    monthly_retention_years: 5,
    hold_minutes: 15,
    max_late_hours: 48,
    batch_size: 500,
    flush_ms: 1000,
    aggregate_every_minutes: 10,
  },
  comfort: { cold_tolerance_c: 1, overheat_tolerance_c: 1 },
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'scope-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  return file;
}

function problemsOf(run: () => unknown): { code: string; message: string; where: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).problems;
  }
  throw new Error('expected an InputError');
}

describe('loadConfig: defaults and layering', () => {
  it('starts from the defaults when no file and no variable exist', () => {
    const { config, sources } = loadConfig({ configDir: dir, env: {} });
    expect(config).toEqual(DEFAULTS);
    expect(sources).toEqual([]);
  });

  it('ships a config/default.yaml whose values are exactly the defaults', () => {
    const { config, sources } = loadConfig({ configDir: repoConfigDir, env: {} });
    expect(config).toEqual(DEFAULTS);
    expect(sources).toEqual([join(repoConfigDir, 'default.yaml')]);
  });

  it('merges local.yaml over default.yaml key by key', () => {
    write('default.yaml', 'server:\n  host: 0.0.0.0\n  port: 8000\nmqtt:\n  embedded:\n    port: 1884\n');
    write('local.yaml', 'server:\n  port: 8001\nmqtt:\n  prefix: region/v1\n');
    const { config, sources } = loadConfig({ configDir: dir, env: {} });
    expect(config.server).toEqual({
      host: '0.0.0.0',
      port: 8001,
      body_limit_mb: 50,
      form_body_limit_kb: 64,
      stop_timeout_s: 10,
      max_event_loop_delay_ms: 200,
    });
    expect(config.mqtt.prefix).toBe('region/v1');
    expect(config.mqtt.embedded).toEqual({ enabled: true, host: '127.0.0.1', port: 1884, max_packet_kb: 64 });
    expect(sources).toEqual([join(dir, 'default.yaml'), join(dir, 'local.yaml')]);
  });

  it('layers explicit files in the order given', () => {
    const a = write('a.yaml', 'log:\n  level: debug\nstorage:\n  data_dir: /srv/a\n');
    const b = write('b.yaml', 'log:\n  level: warn\n');
    const { config, sources } = loadConfig({ files: [a, b], env: {} });
    expect(config.log.level).toBe('warn');
    expect(config.storage.data_dir).toBe('/srv/a');
    expect(sources).toEqual([a, b]);
  });

  it('reports an explicit file that does not exist', () => {
    const missing = join(dir, 'nope.yaml');
    expect(problemsOf(() => loadConfig({ files: [missing], env: {} }))).toEqual([
      { code: 'file-not-found', message: `configuration file ${missing} does not exist`, where: missing },
    ]);
  });
});

describe('loadConfig: environment overrides', () => {
  it('reads SCOPE_ENERGIE_<PATH> as YAML scalars, with "__" between levels', () => {
    const { config, sources } = loadConfig({
      configDir: dir,
      env: {
        SCOPE_ENERGIE_SERVER__PORT: '9090',
        SCOPE_ENERGIE_DEMO__ENABLED: 'false',
        SCOPE_ENERGIE_SYNC__CRON: '*/5 * * * *',
        SCOPE_ENERGIE_SYNC__STALE_AFTER_HOURS: '1.5',
        SCOPE_ENERGIE_AUTH__JWT_ISSUER: '123',
        SCOPE_ENERGIE_CLIENTS_FILE: '/etc/scope/clients.yaml',
        SCOPE_ENERGIE_FROM_SOURCE: '1',
        SCOPE_ENERGIE_LOG__LEVEL: '',
      },
    });
    expect(config.server.port).toBe(9090);
    expect(config.demo.enabled).toBe(false);
    expect(config.sync).toEqual({ cron: '*/5 * * * *', stale_after_hours: 1.5, concurrency: 4 });
    // "123" reads as a number in YAML, but an issuer is text: the raw text is kept.
    expect(config.auth.jwt_issuer).toBe('123');
    expect(config.clients_file).toBe('/etc/scope/clients.yaml');
    expect(config.log.level).toBe('info');
    expect(sources).toEqual([
      'env SCOPE_ENERGIE_AUTH__JWT_ISSUER',
      'env SCOPE_ENERGIE_CLIENTS_FILE',
      'env SCOPE_ENERGIE_DEMO__ENABLED',
      'env SCOPE_ENERGIE_SERVER__PORT',
      'env SCOPE_ENERGIE_SYNC__CRON',
      'env SCOPE_ENERGIE_SYNC__STALE_AFTER_HOURS',
    ]);
  });

  it('applies PORT, DATABASE_URL, MQTT_URL and SCOPE_ENERGIE_DATA after the files', () => {
    write('local.yaml', 'server:\n  port: 8001\n');
    const { config, sources } = loadConfig({
      configDir: dir,
      env: {
        PORT: '7000',
        DATABASE_URL: 'postgres://scope:pw@127.0.0.1:5432/test',
        MQTT_URL: 'mqtt://127.0.0.1:1883',
        SCOPE_ENERGIE_DATA: '/var/lib/scope-energie',
      },
    });
    expect(config.server.port).toBe(7000);
    expect(config.storage).toEqual({
      data_dir: '/var/lib/scope-energie',
      database_url: 'postgres://scope:pw@127.0.0.1:5432/test',
      statement_timeout_ms: 10000,
      lock_timeout_ms: 5000,
      query_timeout_ms: 15000,
      connect_timeout_ms: 5000,
    });
    expect(config.mqtt.url).toBe('mqtt://127.0.0.1:1883');
    // `embedded.enabled: auto` turns the in-process broker off once an external one is named.
    expect(config.mqtt.embedded.enabled).toBe(false);
    expect(sources).toEqual([
      join(dir, 'local.yaml'),
      'env PORT',
      'env DATABASE_URL',
      'env MQTT_URL',
      'env SCOPE_ENERGIE_DATA',
    ]);
  });

  it('lets SCOPE_ENERGIE_SERVER__PORT win over PORT', () => {
    const { config } = loadConfig({
      configDir: dir,
      env: { PORT: '7000', SCOPE_ENERGIE_SERVER__PORT: '9090' },
    });
    expect(config.server.port).toBe(9090);
  });

  it('builds a remote SORTIE source from variables', () => {
    const { config } = loadConfig({
      configDir: dir,
      env: {
        SCOPE_ENERGIE_SORTIE__SOURCE__URL: 'https://scope.example.fr/scope/sortie/v1',
        SCOPE_ENERGIE_SORTIE__SOURCE__TOKEN_URL: 'https://scope.example.fr/oauth/token',
        SCOPE_ENERGIE_SORTIE__SOURCE__CLIENT_ID: 'energie-region',
        SCOPE_ENERGIE_SORTIE__SOURCE__CLIENT_SECRET_ENV: 'SCOPE_ENERGIE_SORTIE_SECRET',
        // Named by client_secret_env: a secret, not a setting, although it has the prefix.
        SCOPE_ENERGIE_SORTIE_SECRET: 'not-a-setting',
      },
    });
    expect(config.sortie.source).toEqual({
      url: 'https://scope.example.fr/scope/sortie/v1',
      token_url: 'https://scope.example.fr/oauth/token',
      client_id: 'energie-region',
      client_secret_env: 'SCOPE_ENERGIE_SORTIE_SECRET',
    });
  });

  it('names the variable and the field of a bad value', () => {
    expect(
      problemsOf(() =>
        loadConfig({ configDir: dir, env: { SCOPE_ENERGIE_SERVER__PORT: 'huit', PORT: '70000' } }),
      ),
    ).toEqual([
      {
        code: 'invalid-env',
        message: 'Too big: expected number to be <=65535',
        where: 'env PORT (server.port)',
      },
      {
        code: 'invalid-env',
        message: 'Invalid input: expected number, received string',
        where: 'env SCOPE_ENERGIE_SERVER__PORT (server.port)',
      },
    ]);
  });

  it('refuses a variable that names no setting, such as a single "_" between levels', () => {
    const problems = problemsOf(() =>
      loadConfig({ configDir: dir, env: { SCOPE_ENERGIE_SERVER_PORT: '9090' } }),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.code).toBe('unknown-setting');
    expect(problems[0]?.where).toBe('env SCOPE_ENERGIE_SERVER_PORT (server_port)');
    expect(problems[0]?.message).toContain('"server_port" is unknown');
    expect(problems[0]?.message).toContain('SCOPE_ENERGIE_SERVER__PORT');
  });

  it('refuses a bad cron expression from the environment', () => {
    expect(
      problemsOf(() => loadConfig({ configDir: dir, env: { SCOPE_ENERGIE_SYNC__CRON: '61 * * * *' } })),
    ).toEqual([
      {
        code: 'invalid-env',
        message: '"61 * * * *" is not a valid cron expression: 61 is a invalid expression for minute',
        where: 'env SCOPE_ENERGIE_SYNC__CRON (sync.cron)',
      },
    ]);
  });
});

describe('loadConfig: errors name the file, line and field', () => {
  it('locates a wrong type', () => {
    write('local.yaml', '# site settings\nserver:\n  port: huit\n');
    expect(problemsOf(() => loadConfig({ configDir: dir, env: {} }))).toEqual([
      {
        code: 'invalid-type',
        message: 'Invalid input: expected number, received string',
        where: `${join(dir, 'local.yaml')}:3:9 (server.port)`,
      },
    ]);
  });

  it('locates and names an unknown key', () => {
    write('default.yaml', 'server:\n  host: 0.0.0.0\n  prot: 8080\n');
    expect(problemsOf(() => loadConfig({ configDir: dir, env: {} }))).toEqual([
      {
        code: 'invalid-unrecognized-keys',
        message: 'Unrecognized key: "prot"',
        where: `${join(dir, 'default.yaml')}:3:9 (server.prot)`,
      },
    ]);
  });

  it('locates a bad cron expression', () => {
    write('local.yaml', 'sync:\n  cron: "*/15 * * *"\n');
    expect(problemsOf(() => loadConfig({ configDir: dir, env: {} }))).toEqual([
      {
        code: 'bad-cron',
        message: '"*/15 * * *" is not a valid cron expression: expected 5 or 6 fields but got 4',
        where: `${join(dir, 'local.yaml')}:2:9 (sync.cron)`,
      },
    ]);
  });

  it('names the layer that breaks a rule spanning files', () => {
    write('default.yaml', 'mqtt:\n  embedded:\n    enabled: true\n');
    write('local.yaml', 'log:\n  level: warn\nmqtt:\n  url: mqtt://broker.example.fr:1883\n');
    expect(problemsOf(() => loadConfig({ configDir: dir, env: {} }))).toEqual([
      {
        code: 'conflicting-settings',
        message:
          'mqtt.url names an external broker while mqtt.embedded.enabled is true: the bridge publishes to one broker; set embedded.enabled to false or auto',
        where: `${join(dir, 'local.yaml')}:4 (mqtt.url)`,
      },
    ]);
  });

  it('names the variable when an override breaks a rule spanning layers', () => {
    write('default.yaml', 'mqtt:\n  password_file: /run/secrets/mqtt\n');
    expect(
      problemsOf(() =>
        loadConfig({ configDir: dir, env: { SCOPE_ENERGIE_MQTT__PASSWORD_ENV: 'MQTT_PASSWORD' } }),
      ),
    ).toEqual([
      {
        code: 'conflicting-settings',
        message: 'give the broker password either by password_file or by password_env, not both',
        where: 'env SCOPE_ENERGIE_MQTT__PASSWORD_ENV (mqtt.password_env)',
      },
    ]);
  });
});
