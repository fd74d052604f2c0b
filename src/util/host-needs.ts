/**
 * What the plan's server runtime needs from this host, as the runtime itself describes it. The host preflight
 * reads only this, so that it knows no runtime by name.
 */
export interface HostNeeds {
  /**
   * The GPUs of this host the server will use: a CUDA_VISIBLE_DEVICES-style selection (indices or `GPU-…` uuids,
   * comma-separated; null: all), or why this host's GPUs do not matter, for the report.
   */
  gpus: { selection: string | null } | { notApplicable: string };
  /**
   * The vLLM the runtime starts. `this-host`: the plan's executable runs here, so its version is detected here and
   * the plan's flags are checked against it. `elsewhere`: it runs out of this host's reach (what the report says
   * instead); the flags are checked against the pinned version only. `none`: the runtime starts no vLLM, so there
   * is neither a vLLM nor flags to check.
   */
  vllm: 'this-host' | { elsewhere: string } | 'none';
  /** Whether a model given as a path must be a model folder on this host. */
  modelOnHost: boolean;
  /** Whether the server binds `server.host:server.port` on this host, so the port must be free here. */
  portOnHost: boolean;
}
