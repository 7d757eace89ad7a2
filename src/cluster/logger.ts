// The logger the cluster module writes to: the same shape as the broker's Logger
// (src/broker/logger.ts), declared here because cluster/ may not import broker/.

export type ClusterLogFields = Readonly<Record<string, string | number | boolean | null | undefined>>;

export interface ClusterLogger {
  info(message: string, fields?: ClusterLogFields): void;
  warn(message: string, fields?: ClusterLogFields): void;
  error(message: string, error?: unknown, fields?: ClusterLogFields): void;
  debug?(message: string, fields?: ClusterLogFields): void;
}

export const silentClusterLogger: ClusterLogger = {
  info: () => {},
  warn: () => {},
  error: () => {},
};
