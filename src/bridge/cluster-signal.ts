/**
 * What one instance tells the others through the store (issue 8): a school's timetable or
 * overrides changed here, so its lease holder syncs or replans now. One schema for both ends.
 */
import { z } from 'zod';

export const clusterSignalSchema = z.object({
  kind: z.enum(['timetable', 'overrides']),
  uai: z.string().min(1).max(16),
  /** The sending instance (it ignores its own signals). */
  from: z.string().min(1),
});

export type ClusterSignal = z.infer<typeof clusterSignalSchema>;

/** The signal, or null for anything else on the channel (another version, garbage). */
export function parseClusterSignal(text: string): ClusterSignal | null {
  try {
    const parsed = clusterSignalSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
