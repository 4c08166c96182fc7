/**
 * The `retention` section: policies that delete old tags and untagged manifests, applied by each
 * garbage collection run (semantics in docs/retention.md and src/retention/planner.ts). The same
 * policy schema checks what administrators send through /api/v1/retention/policies, strictly
 * there (an unknown key is an error, not a warning: a misspelt rule would delete what it meant to keep).
 */
import { z } from 'zod';
import { MAX_TAG_PATTERNS, parseAge, repositoryPatternProblem, tagPatternProblem, tagPatternsProblem } from '../retention/policy.ts';

/**
 * "90d" or a Go duration ("168h"), checked and kept as written (src/retention/policy.ts's toPolicy
 * reads it), so that `berth config check` prints it back as it was given.
 */
const age = z.string().superRefine((value, ctx) => {
  try {
    parseAge(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const repositoryPattern = z.string().superRefine((value, ctx) => {
  const problem = repositoryPatternProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const tagPattern = z.string().superRefine((value, ctx) => {
  const problem = tagPatternProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** One policy; `strict` refuses unknown keys (the API). */
export function retentionPolicySchema(strict: boolean) {
  const object = strict ? z.strictObject : z.object;
  return object({
    repository: repositoryPattern,
    keep: object({
      newest: z.number().int().positive().optional(),
      tags: z.array(tagPattern).max(MAX_TAG_PATTERNS).superRefine((patterns, ctx) => {
        const problem = tagPatternsProblem(patterns);
        if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
      }).default([]),
    }).prefault({}),
    delete: object({
      notpulledfor: age.optional(),
      untaggedafter: age.optional(),
    }).prefault({}),
  });
}

export const retentionSchema = z.object({
  policies: z
    .array(retentionPolicySchema(false))
    .default([])
    .superRefine((policies, ctx) => {
      const seen = new Set<string>();
      policies.forEach((p, index) => {
        if (seen.has(p.repository)) ctx.addIssue({ code: 'custom', path: [index, 'repository'], message: `two policies for ${JSON.stringify(p.repository)}` });
        seen.add(p.repository);
      });
    }),
});

/** A policy as written (config file, API body), ages as text; checked (structurally policy.ts's RetentionPolicyConfig). */
export type RetentionPolicyInput = z.output<ReturnType<typeof retentionPolicySchema>>;
