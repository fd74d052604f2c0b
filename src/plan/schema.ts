import { z } from 'zod';
import { McqDatasetOptionsSchema } from './dataset-options.js';
import { folderName } from './folder-name.js';
import { PerfEvalSchema } from './perf-schema.js';
import { suggestKey } from './keys.js';
import { checkDockerServer, DockerSpecSchema } from './docker-schema.js';
import { checkSlurmServer, SlurmSpecSchema } from './slurm-schema.js';
import { checkExternalServer, checkLocalServer } from './server-checks.js';
import { DURATION_FORMS, DurationSchema } from './duration.js';
import { parseVersion } from '../util/pep440.js';

// A command parses one plan once: zod's JIT, which compiles a parser per object schema on its first use, costs
// more than it saves there (~6 ms of every start). Validation is the same either way.
z.config({ jitless: true });

/**
 * The whole plan language in one place: every key, its type and its default.
 * Objects are strict so a typo is an error, never silently ignored.
 */

/**
 * `name` names a folder of the run directory, so two items may not share one; nor may two names that differ only
 * in case, which share a folder on macOS and Windows. The second one is the error.
 */
function uniqueNames(field: string, noun: string, folder: string) {
  return (items: readonly { name: string }[], ctx: z.core.$RefinementCtx) => {
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const first = seen.get(item.name.toLowerCase());
      if (first === undefined) {
        seen.set(item.name.toLowerCase(), index);
        return;
      }
      const firstName = items[first]?.name ?? item.name;
      const caseNote =
        firstName === item.name ? '' : ` as "${firstName}", the same folder on macOS and Windows`;
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `${noun} name "${item.name}" is already used by ${field}[${first}]${caseNote}: each ${noun} writes to ${folder}, so give each a name of its own`,
      });
    });
  };
}

/** Chat-template arguments the common reasoning models' templates read (Qwen3, DeepSeek-V3.1, gpt-oss). */
export const KNOWN_TEMPLATE_KWARGS = [
  'enable_thinking',
  'thinking',
  'reasoning_effort',
  'add_generation_prompt',
];

/**
 * Free-form, since templates define their own arguments; but a key one typo away from a known one
 * (`enable_thinkng`) is an error, because the template would silently ignore it.
 */
const chatTemplateKwargs = z.record(z.string(), z.unknown()).superRefine((kwargs, ctx) => {
  for (const key of Object.keys(kwargs)) {
    if (KNOWN_TEMPLATE_KWARGS.includes(key)) continue;
    const hint = suggestKey(key, KNOWN_TEMPLATE_KWARGS);
    if (hint) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `unknown key "${key}" (did you mean "${hint}"?)`,
        params: { unknownKey: key },
      });
    }
  }
});

export const GenerationSchema = z
  .strictObject({
    max_tokens: z.int().positive().optional().describe('Completion budget per request (reasoning included)'),
    temperature: z.number().min(0).optional(),
    top_p: z.number().gt(0).max(1).optional(),
    top_k: z.int().optional().describe('vLLM extension; -1 disables'),
    min_p: z.number().min(0).max(1).optional().describe('vLLM extension'),
    presence_penalty: z.number().optional(),
    seed: z.int().optional(),
    chat_template_kwargs: chatTemplateKwargs.optional().describe('e.g. {enable_thinking: false}'),
    stream: z.boolean().default(false),
    timeout: DurationSchema.prefault(600).describe(
      `Stall time-out: the longest wait for the response to begin and, when streaming, between two chunks; without streaming, the wait for the whole response (stream long reasoning, so that only a stall counts). A stall is retried. ${DURATION_FORMS}`,
    ),
    max_request_time: DurationSchema.prefault(3600).describe(
      `The longest one attempt of a request may take in all, however steadily tokens flow; not retried. ${DURATION_FORMS}`,
    ),
    retries: z
      .int()
      .min(0)
      .default(2)
      .describe(
        'Further attempts after a transient failure (5xx, 429 after its Retry-After, 408, a refused or broken connection, a stall), with exponential backoff and jitter; 400, 401, 404 are not retried',
      ),
    max_consecutive_failures: z
      .int()
      .positive()
      .default(10)
      .describe(
        'Stop the evaluation when this many requests in a row failed after their retries (vLLM stopped answering)',
      ),
  })
  .describe('Sampling and request settings sent with every request');

export const NativeEvalSchema = z
  .strictObject({
    name: folderName,
    backend: z.literal('native'),
    dataset: z
      .enum(['iquiz', 'mcq'])
      .describe(
        'iquiz: IQuiz (IQ.jsonl, EQ.jsonl); mcq: any multiple-choice JSONL/CSV, laid out as `mcq` says',
      ),
    dataset_path: z
      .string()
      .optional()
      .describe(
        'iquiz: a folder with IQ.jsonl and EQ.jsonl (default: download AI-ModelScope/IQuiz); mcq: a file or folder',
      ),
    mcq: McqDatasetOptionsSchema.optional().describe(
      'dataset mcq: layout, field mapping, shuffle, repeats, bad records',
    ),
    subsets: z.array(z.string()).min(1).optional().describe('Default: every subset of the dataset'),
    concurrency: z
      .int()
      .positive()
      .default(8)
      .describe("Requests in flight at once (EvalScope's eval-batch-size)"),
    limit: z.int().positive().optional().describe('At most this many samples per subset'),
    generation: GenerationSchema.prefault({}),
  })
  .superRefine((spec, ctx) => {
    if (spec.dataset === 'mcq' && spec.dataset_path === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dataset_path'],
        message: 'dataset mcq needs dataset_path (a .jsonl/.csv file or a folder)',
      });
    }
    // IQuiz has one layout; its sampling options (shuffle, repeats, on_bad_record) apply as to any MCQ data.
    if (
      spec.dataset === 'iquiz' &&
      spec.mcq &&
      (spec.mcq.layout !== 'iquiz' || spec.mcq.fields || spec.mcq.subset_field)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['mcq'],
        message:
          'dataset iquiz has a fixed layout: mcq.layout, fields and subset_field apply to dataset: mcq only',
      });
    }
  });

export const EvalScopeEvalSchema = z
  .strictObject({
    name: folderName,
    backend: z.literal('evalscope'),
    datasets: z
      .array(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an EvalScope benchmark name, e.g. iquiz, gsm8k'))
      .min(1)
      .describe("EvalScope benchmark names (its --datasets), e.g. ['iquiz', 'gsm8k']"),
    eval_batch_size: z
      .int()
      .positive()
      .default(8)
      .describe("Requests in flight at once (EvalScope's --eval-batch-size)"),
    generation_config: z
      .record(z.string(), z.unknown())
      .optional()
      .describe(
        'Passed to EvalScope as its --generation-config JSON, e.g. {max_tokens: 2048, temperature: 0}',
      ),
    limit: z.int().positive().optional().describe('At most this many samples per subset (--limit)'),
    dataset_args: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .optional()
      .describe('Per-dataset options (--dataset-args), e.g. {iquiz: {local_path: /data/iquiz}}'),
    extra_args: z.array(z.string()).default([]).describe('Further arguments appended to `evalscope eval`'),
    executable: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .default('evalscope')
      .describe(
        "The program: a path (a virtual environment's bin/evalscope) or an argument list, e.g. [python, -m, evalscope.cli.cli]",
      ),
    version: z
      .string()
      .refine((text) => parseVersion(text) !== null, 'a version such as 0.17.1 or 1.0.0')
      .optional()
      .describe(
        'The EvalScope version, instead of asking the executable (for --dry-run, or where it cannot be asked)',
      ),
    timeout: DurationSchema.prefault(7200).describe(
      `The longest the whole EvalScope run may take. ${DURATION_FORMS}`,
    ),
  })
  .describe('An evaluation run by EvalScope itself, against the server evalrig started');

export const EvalSchema = z.discriminatedUnion('backend', [
  NativeEvalSchema,
  EvalScopeEvalSchema,
  PerfEvalSchema,
]);

/**
 * Settings the backends name differently, by backend: another backend's key → this backend's, so that a plan
 * that writes the other's name is told which key to use.
 */
export const BACKEND_OWN_KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  native: { eval_batch_size: 'concurrency', generation_config: 'generation', datasets: 'dataset' },
  evalscope: { concurrency: 'eval_batch_size', generation: 'generation_config', dataset: 'datasets' },
  perf: { eval_batch_size: 'concurrency' },
};

export const DatasetsSchema = z.strictObject({
  cache_dir: z
    .string()
    .optional()
    .describe('Where downloaded datasets are kept (default ~/.cache/evalrig, or EVALRIG_CACHE)'),
  offline: z.boolean().default(false).describe('Never touch the network: use dataset_path or the cache only'),
});

/** What each runtime needs of the server settings, looked up by `server.runtime`. */
const RUNTIME_CHECKS = {
  local: checkLocalServer,
  docker: checkDockerServer,
  external: checkExternalServer,
  slurm: checkSlurmServer,
};
type Runtime = keyof typeof RUNTIME_CHECKS;

const port = z.union([z.int().min(1).max(65535), z.literal('auto')]);

/** A value that becomes an argument of `vllm serve`: one starting with `-` would be read as an option. */
const notAnOption = z
  .string()
  .min(1)
  .refine((text) => !text.startsWith('-'), 'may not start with "-" (vllm serve would read it as an option)');

export const ServerSchema = z
  .strictObject({
    runtime: z.enum(Object.keys(RUNTIME_CHECKS) as [Runtime, ...Runtime[]]).default('local'),
    base_url: z.url().optional().describe('runtime external: the endpoint root, e.g. http://10.0.0.5:8000'),
    api_key: z
      .string()
      .optional()
      .describe(
        'Sent as a Bearer token; vLLM gets it as the VLLM_API_KEY environment variable (never on a command line). Masked in logs and run files',
      ),
    model: notAnOption.optional().describe('runtime local: the model path or Hugging Face / ModelScope id'),
    served_model_name: notAnOption.optional().describe('Default: the model argument, as vLLM does'),
    host: z.string().default('127.0.0.1'),
    port: port.default('auto'),
    max_model_len: z.int().positive().optional(),
    reasoning_parser: z.string().optional().describe('e.g. qwen3 or deepseek_r1'),
    vllm_version: z
      .string()
      // Read as the run reads it, whole: every pin accepted here is one the flags can follow.
      .refine((text) => parseVersion(text)?.raw === text, 'a vLLM version such as 0.8.5 or 0.10.1.1')
      .optional()
      .describe('Pin the vLLM version instead of detecting it (also serves --dry-run without vLLM)'),
    python: z.string().optional().describe("The Python of vLLM's environment, used to detect its version"),
    tensor_parallel_size: z.int().positive().optional(),
    pipeline_parallel_size: z.int().positive().optional(),
    data_parallel_size: z.int().positive().optional(),
    gpu_memory_utilization: z.number().gt(0).max(1).optional().describe("vLLM's default is 0.9"),
    dtype: z.enum(['auto', 'half', 'float16', 'bfloat16', 'float', 'float32']).optional(),
    quantization: z.string().optional().describe('e.g. awq, gptq, fp8'),
    enforce_eager: z.boolean().optional().describe('Skip CUDA graph capture: faster start, slower decoding'),
    enable_prefix_caching: z.boolean().optional(),
    max_num_seqs: z.int().positive().optional().describe('Sequences vLLM runs at once (its default: 256)'),
    seed: z.int().optional(),
    generation_config: z
      .string()
      .optional()
      .describe("'auto' (model's generation_config.json), 'vllm', or a folder"),
    chat_template_kwargs: chatTemplateKwargs
      .optional()
      .describe("Defaults for every eval's generation.chat_template_kwargs (an eval's own keys win)"),
    cuda_visible_devices: z
      .union([z.string(), z.int().min(0), z.array(z.int().min(0))])
      .optional()
      .describe('GPUs the server may use, e.g. "0,1" or [0, 1]; sets CUDA_VISIBLE_DEVICES'),
    extra_args: z.array(z.string()).default([]).describe('Passed to vllm serve as they are'),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        'Environment of the vLLM process (runtime docker: of the container, under docker.env); values of secret names such as HF_TOKEN or OPENAI_API_KEY are masked',
      ),
    executable: z.string().default('vllm').describe('A command on PATH, or a path relative to the plan file'),
    startup_timeout: DurationSchema.prefault(900).describe(
      `How long to wait for the server to be ready (/health answers 200). ${DURATION_FORMS}`,
    ),
    stop_timeout: DurationSchema.prefault(30).describe(
      `How long the server gets to exit after SIGTERM (docker stop) before it is killed. ${DURATION_FORMS}`,
    ),
    health_interval: DurationSchema.prefault(5).describe(
      `While evaluating, how often /health is asked whether the server still answers. ${DURATION_FORMS}`,
    ),
    unhealthy_after: DurationSchema.prefault(30).describe(
      `While evaluating, how long /health may keep failing before the evaluation stops ("vLLM stopped answering") instead of waiting out every request. ${DURATION_FORMS}`,
    ),
    docker: DockerSpecSchema.optional().describe('runtime docker: image, GPUs, volumes (see docs/docker.md)'),
    slurm: SlurmSpecSchema.optional().describe(
      'runtime slurm: partition, GPUs, time limit, setup lines of the job (see docs/slurm.md)',
    ),
  })
  .superRefine((server, ctx) => {
    for (const problem of RUNTIME_CHECKS[server.runtime](server))
      ctx.addIssue({ code: 'custom', ...problem });
  });

const NOTIFY_KINDS = ['json', 'feishu', 'dingtalk', 'wecom', 'slack'] as const;

/** Platforms whose custom bots check a signature made with the bot's secret (docs/notifications.md). */
const SIGNED_KINDS: readonly (typeof NOTIFY_KINDS)[number][] = ['feishu', 'dingtalk'];

export const NotifyTargetSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, error: 'the http(s) address of the webhook' })
      .describe(
        'The webhook. It holds a token: write that as ${VAR} with a secret name, e.g. https://open.feishu.cn/open-apis/bot/v2/hook/${FEISHU_WEBHOOK_TOKEN}, to keep it out of logs and run files',
      ),
    kind: z
      .enum(NOTIFY_KINDS)
      .default('json')
      .describe(
        "The message shape: json (evalrig's own fields), feishu, dingtalk, wecom (custom group bots), slack (incoming webhook)",
      ),
    on: z
      .enum(['failure', 'gate', 'always'])
      .default('failure')
      .describe(
        'When to post: failure (the run failed, was interrupted, or a gate failed), gate (only a failed gate), always',
      ),
    timeout: DurationSchema.prefault(10).describe(`The longest one attempt may take. ${DURATION_FORMS}`),
    retries: z
      .int()
      .min(0)
      .max(10)
      .default(2)
      .describe('Further attempts after a 5xx, a 429 or a network error; a 4xx is not retried'),
    secret: z
      .string()
      .min(1)
      .optional()
      .describe(
        'feishu, dingtalk: the signing secret of a bot with signature checks on (write it as ${VAR})',
      ),
    mention: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe(
        'Whom the message mentions: user ids (dingtalk: also mobile numbers), or "all" (not wecom); see docs/notifications.md',
      ),
  })
  .superRefine((target, ctx) => {
    if (target.secret !== undefined && !SIGNED_KINDS.includes(target.kind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: `kind ${target.kind} has no signed webhooks: secret applies to kind feishu and dingtalk only`,
      });
    }
    if (target.kind === 'wecom' && target.mention?.includes('all')) {
      ctx.addIssue({
        code: 'custom',
        path: ['mention'],
        message: 'WeCom markdown messages cannot mention everyone: list user ids instead of "all"',
      });
    }
  });

/** A perf evaluation's figures per concurrency level, as perf.json names them (docs/perf.md). */
export const PERF_GATE_METRICS = [
  'ttft_ms.mean',
  'ttft_ms.median',
  'ttft_ms.p90',
  'ttft_ms.p95',
  'ttft_ms.p99',
  'tpot_ms.mean',
  'tpot_ms.median',
  'tpot_ms.p90',
  'tpot_ms.p95',
  'tpot_ms.p99',
  'itl_ms.mean',
  'itl_ms.median',
  'itl_ms.p90',
  'itl_ms.p95',
  'itl_ms.p99',
  'e2el_ms.mean',
  'e2el_ms.median',
  'e2el_ms.p90',
  'e2el_ms.p95',
  'e2el_ms.p99',
  'request_throughput',
  'output_throughput',
  'total_token_throughput',
] as const;
export type PerfGateMetric = (typeof PERF_GATE_METRICS)[number];

export const GATE_METRICS = [
  'score',
  'truncation_rate',
  'error_rate',
  'time_to_ready_s',
  ...PERF_GATE_METRICS,
] as const;

export function isPerfGateMetric(metric: string): metric is PerfGateMetric {
  return (PERF_GATE_METRICS as readonly string[]).includes(metric);
}

/** One check of a finished run's figures; a failed gate gives exit code 3 (docs/gates.md). */
export const GateSchema = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .optional()
      .describe('How the verdict names the gate (default: <eval>.<subset>.<metric>)'),
    eval: z
      .string()
      .optional()
      .describe('The evaluation whose figure is judged; every metric but time_to_ready_s needs one'),
    subset: z
      .string()
      .default('OVERALL')
      .describe('metric score: a subset of the evaluation, or OVERALL (the micro mean over all samples)'),
    metric: z
      .enum(GATE_METRICS)
      .describe(
        "score (fraction 0..1), truncation_rate and error_rate (of the samples), time_to_ready_s (server start until ready); a perf evaluation's ttft_ms.p99, itl_ms.median, output_throughput, … (milliseconds, per second; docs/gates.md)",
      ),
    concurrency: z
      .int()
      .positive()
      .optional()
      .describe(
        "Perf metrics: the evaluation's concurrency level judged (may be left out when it has one level)",
      ),
    min: z.number().optional().describe('Fail when the value is below this'),
    max: z.number().optional().describe('Fail when the value is above this'),
    max_drop: z
      .number()
      .min(0)
      .optional()
      .describe(
        'metric score: fail when the score fell more than this below the compared run (0.1 = ten points)',
      ),
    against: z
      .enum(['previous', 'baseline'])
      .default('previous')
      .describe(
        'max_drop compares with the previous run of the plan (and matrix cell) that ended ok, or with the pinned baseline (evalrig history baseline)',
      ),
    significant: z
      .boolean()
      .default(false)
      .describe('max_drop: fail only when the drop is also beyond the noise (two-proportion z-test at 95 %)'),
  })
  .superRefine((gate, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (gate.min === undefined && gate.max === undefined && gate.max_drop === undefined)
      issue('metric', 'a gate needs min, max or max_drop');
    if (gate.metric === 'time_to_ready_s' && gate.eval !== undefined)
      issue('eval', 'time_to_ready_s is the server start, not an evaluation: remove eval');
    if (gate.metric !== 'time_to_ready_s' && gate.eval === undefined)
      issue('eval', `metric ${gate.metric} needs eval (the evaluation it judges)`);
    if (gate.metric !== 'score' && gate.subset !== 'OVERALL')
      issue('subset', `${gate.metric} is counted per evaluation: subset applies to metric score only`);
    if (gate.metric !== 'score' && gate.max_drop !== undefined)
      issue('max_drop', `max_drop compares scores: for ${gate.metric} use min or max`);
    if (gate.concurrency !== undefined && !isPerfGateMetric(gate.metric))
      issue(
        'concurrency',
        `concurrency picks a level of a perf evaluation's figures; ${gate.metric} has none`,
      );
    if (gate.max_drop === undefined && gate.significant)
      issue('significant', 'significant qualifies max_drop: add max_drop or remove significant');
    if (gate.max_drop === undefined && gate.against === 'baseline')
      issue('against', 'against says what max_drop compares with: add max_drop or remove against');
    if (gate.min !== undefined && gate.max !== undefined && gate.min > gate.max)
      issue('max', `max ${gate.max} is below min ${gate.min}: no value could pass`);
  });

/**
 * A gate must judge an evaluation of the plan: a misspelt name would otherwise never be judged. A perf metric
 * needs a perf evaluation, and one of its concurrency levels.
 */
function gatesNameEvals(
  plan: {
    evals: { name: string; backend: string; concurrency?: number | number[] }[];
    gates?: { eval?: string; metric: string; concurrency?: number }[];
  },
  ctx: z.core.$RefinementCtx,
) {
  const names = plan.evals.map((spec) => spec.name);
  const issue = (index: number, key: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: ['gates', index, key], message });
  plan.gates?.forEach((gate, index) => {
    if (gate.eval === undefined) return;
    const spec = plan.evals.find((e) => e.name === gate.eval);
    if (!spec) {
      const hint = suggestKey(gate.eval, names);
      issue(
        index,
        'eval',
        `no evaluation "${gate.eval}" in this plan${hint ? ` (did you mean "${hint}"?)` : ''}; it has: ${names.join(', ')}`,
      );
      return;
    }
    if (!isPerfGateMetric(gate.metric)) return;
    if (spec.backend !== 'perf') {
      issue(
        index,
        'metric',
        `${gate.metric} is a perf figure, and ${spec.name} is a ${spec.backend} evaluation`,
      );
      return;
    }
    const levels = [spec.concurrency ?? 1].flat();
    if (gate.concurrency === undefined && levels.length > 1)
      issue(
        index,
        'metric',
        `${spec.name} has concurrency levels ${levels.join(', ')}: name one with concurrency`,
      );
    if (gate.concurrency !== undefined && !levels.includes(gate.concurrency))
      issue(
        index,
        'concurrency',
        `${spec.name} has no concurrency level ${gate.concurrency}; it has ${levels.join(', ')}`,
      );
  });
}

export const OutputSchema = z.strictObject({
  dir: z.string().default('outputs').describe('Run directories go to <dir>/<plan name>/<timestamp>'),
});

/** The variants of a matrix; `field` is where they are, for the message about a name used twice. */
function matrixVariants(field: string) {
  return z
    .array(
      z.strictObject({
        name: folderName,
        set: z
          .record(z.string(), z.unknown())
          .describe(
            'Overrides for this variant, as --set takes them: {"server.model": ..., "evals[0].limit": 10}',
          ),
      }),
    )
    .min(1)
    .superRefine(uniqueNames(field, 'variant', '<name>/ of the run directory'));
}

/** A list of variants run one at a time, or the variants with how many of them run at once. */
const MatrixSchema = z.union([
  matrixVariants('matrix').describe('The variants, run one at a time'),
  z
    .strictObject({
      max_parallel: z
        .int()
        .min(1)
        .default(1)
        .describe(
          'How many variants run at once, each with its own server; on one machine give each its own GPUs (server.cuda_visible_devices per variant) and keep server.port: auto',
        ),
      variants: matrixVariants('matrix.variants'),
    })
    .describe('The variants, and how many of them run at once'),
]);

export type Matrix = z.output<typeof MatrixSchema>;
export type MatrixVariant = z.output<ReturnType<typeof matrixVariants>>[number];

/** A matrix in either shape: its variants, how many run at once, and where the variants are in the plan. */
export function matrixLayout<Variant = MatrixVariant>(
  matrix: Variant[] | { max_parallel?: number; variants: Variant[] },
): {
  variants: Variant[];
  maxParallel: number;
  path: string[];
} {
  return Array.isArray(matrix)
    ? { variants: matrix, maxParallel: 1, path: ['matrix'] }
    : { variants: matrix.variants, maxParallel: matrix.max_parallel ?? 1, path: ['matrix', 'variants'] };
}

const PlanFields = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dot, dash or underscore'),
  description: z.string().optional(),
  server: ServerSchema,
  evals: z
    .array(EvalSchema)
    .min(1)
    .superRefine(uniqueNames('evals', 'evaluation', 'evals/<name>/'))
    .describe('Evaluations, run one after another; each writes to evals/<name>/ of the run directory'),
  datasets: DatasetsSchema.prefault({}),
  output: OutputSchema.prefault({}),
  matrix: MatrixSchema.optional().describe(
    'Run the plan once per variant, each a whole run with its own server, and compare the results side by side: a list of variants (one at a time), or {max_parallel, variants}',
  ),
  notify: z
    .array(NotifyTargetSchema)
    .min(1)
    .optional()
    .describe(
      'Webhooks told when a run (a matrix: once, at its end) ends; a notification that fails is a warning, never a failed run',
    ),
  gates: z
    .array(GateSchema)
    .min(1)
    .optional()
    .describe(
      'Checks of the finished run (scores, rates, time to ready, drops against an earlier run); one that fails gives exit code 3',
    ),
});
export const PlanSchema = PlanFields.superRefine(gatesNameEvals);

export type Plan = z.output<typeof PlanSchema>;
export type ServerSpec = Plan['server'];
export type EvalSpec = Plan['evals'][number];
export type NativeEvalSpec = z.output<typeof NativeEvalSchema>;
export type PerfEvalSpec = z.output<typeof PerfEvalSchema>;
export type EvalScopeEvalSpec = z.output<typeof EvalScopeEvalSchema>;
export type GenerationSettings = z.output<typeof GenerationSchema>;
export type NotifyTarget = z.output<typeof NotifyTargetSchema>;
export type GateSpec = z.output<typeof GateSchema>;
export type GateMetric = GateSpec['metric'];
export type NotifyKind = NotifyTarget['kind'];
