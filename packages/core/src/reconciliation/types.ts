/** What a reconciliation run is given and reports (CONTRACT 11). */

import type { DataSource } from 'typeorm';
import { type Logger } from '@payments/platform';

import type { PaymentProvider } from '../provider-seam/provider';
import { type Bridge, type DifferenceKind, type Verdict } from './classify';

export type DifferenceStatus = 'ACTED' | 'PENDING' | 'OPEN' | 'RESOLVED';

export interface DifferenceReport {
  id: string;
  kind: DifferenceKind;
  status: DifferenceStatus;
  action: string;
  reference: string;
  channelOrderNo: string | null;
  amount: number;
  currency: string;
  detail: string;
  /** NEW this run, PERSISTING from an earlier one, RESOLVED by this run. */
  change: 'NEW' | 'PERSISTING' | 'RESOLVED';
}

export interface RunReport {
  provider: string;
  date: string;
  verdict: Verdict;
  error?: string;
  sha256?: string;
  linesRead: number;
  matched: number;
  fees: Record<string, number>;
  differences: DifferenceReport[];
  bridges: Bridge[];
}

export interface ReconObserver {
  /** One difference recorded for the first time. */
  item?(provider: string, kind: DifferenceKind | 'matched'): void;
  /** A run ended with this verdict. */
  run?(provider: string, verdict: Verdict): void;
}

export interface ReconDeps {
  dataSource: DataSource;
  provider: PaymentProvider;
  log: Logger;
  observe?: ReconObserver;
  /** Who claims the run (in the claim row). */
  owner?: string;
}

export interface RunOptions {
  /**
   * The daily run: only a (provider, date) never completed (or failed, after its retry delay).
   * Without it (payctl), a completed day is run again: nothing is acted on twice.
   */
  daily?: boolean;
  /**
   * How many differences the run holds while it reads the statement before trusting it (default
   * 10,000); past that, it reads the statement a second time once trusted, acting on each at once.
   */
  heldDifferences?: number;
}
