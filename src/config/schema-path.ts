/**
 * Finds the schema of one setting by its path (`['server', 'port']`), so an environment override
 * can be checked on its own and its error can name the variable rather than a merged document.
 */
import type { z } from 'zod';

export type SettingLookup =
  | { kind: 'setting'; schema: z.ZodType }
  | { kind: 'section' }
  | { kind: 'unknown'; known: string[] };

interface DefLike {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: readonly z.ZodType[];
}

function defOf(schema: z.ZodType): DefLike {
  return schema._zod.def as unknown as DefLike;
}

/** Strips wrappers that do not change which keys exist: default, prefault, optional, pipe… */
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = defOf(current);
    if (
      def.innerType &&
      ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type)
    ) {
      current = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      current = def.in;
    } else {
      return current;
    }
  }
}

function objectShapes(schema: z.ZodType): Record<string, z.ZodType>[] {
  const inner = unwrap(schema);
  const def = defOf(inner);
  if (def.type === 'object' && def.shape) return [def.shape];
  if (def.type === 'union' && def.options) return def.options.flatMap((option) => objectShapes(option));
  return [];
}

export function settingAt(root: z.ZodType, path: readonly string[]): SettingLookup {
  let current = root;
  for (const key of path) {
    const shapes = objectShapes(current);
    const next = shapes.map((shape) => shape[key]).find((s): s is z.ZodType => s !== undefined);
    if (!next) return { kind: 'unknown', known: shapes.flatMap((shape) => Object.keys(shape)) };
    current = next;
  }
  const def = defOf(unwrap(current));
  // A union of a scalar and an object (sortie.source) is a setting: the scalar form fits one variable.
  if (def.type === 'object') return { kind: 'section' };
  return { kind: 'setting', schema: current };
}
