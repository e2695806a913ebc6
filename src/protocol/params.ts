/** Chain parameters from genesis, with the defaults of DESIGN §6–7. */
export interface ChainParams {
  /** Target time between blocks. */
  blockTimeMs: number
  maxTxBytes: number
  maxBlockBytes: number
  maxBlockTxs: number
  maxPostBytes: number
  maxBioBytes: number
  maxUrlBytes: number
  maxDisplayNameBytes: number
  /** fee ≥ minFeePerByte × the signed tx's encoded size. */
  minFeePerByte: bigint
  /** Validator-set changes take effect every epochBlocks heights. */
  epochBlocks: number
  /** Unstaked coins return to the balance this many blocks later. */
  unbondingBlocks: number
  /** At each epoch the validators are the stakers with the most stake, at most this many. */
  maxValidators: number
  /** Less stake than this does not make a validator. */
  minValidatorStake: bigint
}

export const DEFAULT_PARAMS: ChainParams = {
  blockTimeMs: 1000,
  maxTxBytes: 8 * 1024,
  maxBlockBytes: 2 * 1024 * 1024,
  maxBlockTxs: 5000,
  maxPostBytes: 4096,
  maxBioBytes: 512,
  maxUrlBytes: 256,
  maxDisplayNameBytes: 64,
  minFeePerByte: 1n,
  epochBlocks: 100,
  unbondingBlocks: 1000,
  maxValidators: 100,
  minValidatorStake: 1n
}

export const USERNAME_PATTERN = /^[a-z0-9_]{3,20}$/

/** The chain id of dev chains (genesis/devnet.json): the only chains a faucet (dev_faucet) runs on. */
export const DEV_CHAIN_ID = 'chorus-dev'
