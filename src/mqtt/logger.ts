/**
 * The logging surface the MQTT layer needs. A pino `Logger` satisfies it; tests pass a recorder.
 */
export interface MqttLogger {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

const ignore = (): void => {};

export const silentLogger: MqttLogger = { debug: ignore, info: ignore, warn: ignore, error: ignore };
