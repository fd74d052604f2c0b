import { z } from 'zod';
import { PlanSchema } from '../plan/schema.js';

/** The plan's JSON Schema, generated from the same zod schema that validates plans (one source of truth). */
export function planJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://evalrig.dev/plan.schema.json',
    title: 'evalrig plan',
    ...z.toJSONSchema(PlanSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
