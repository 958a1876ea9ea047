/*
 * One merchant order across the real processes (issue 30), checked with spin.
 *
 *   spin -a model/payments.pml && gcc -O2 -DCOLLAPSE -o pan pan.c && ./pan -m100000
 *   (add -D<VARIANT> to `spin -a` for a known-bad variant; model/model.test.ts runs them all)
 *
 * Each step below is one step of the code: one database transaction (atomic: the pay order's row
 * lock serialises them, a crash rolls one back whole), one provider call, one broker publish or
 * ack. Between two steps any other process may run, and a process may crash (CRASH): a consumer's
 * message is then redelivered, the relay republishes the outbox row it had not marked sent, a
 * gateway's HTTP request simply dies (its lock is left to expire).
 *
 * Processes: two gateways applying (the second for the same channel, a double click, or for the
 * voucher channel), the provider (creates that arrive late or never, the shopper paying, trades
 * expiring, callbacks that are lost, duplicated, late, in any order), the poller and its sweep,
 * the refunder (extra-charge events, refund sends, its sweeps), the notifier and the order
 * service, the outbox relay, a merchant close, the clock (the order's expiry) and the Redis lock's
 * expiry. Faults are bounded by budgets so that every run ends quiet; the properties are checked
 * in every quiet state (`timeout`: nothing can move), and the always-true ones where they happen.
 *
 * Known-bad variants (spin must reject each with a trail):
 *   BAD_NO_FENCE              settleAttempt decides on a read without the pay order's row lock
 *                             and marks it PAID without the compare-and-set
 *   BAD_NOT_FOUND_FINAL       a close's "not found" ends the attempt before its expiry
 *   BAD_SKIP_REFUND_CHECK     the refunder's hard checks (refundProblem) always pass
 *   BAD_REFUND_NO_PER_REQUEST a refund number per request (not derived from attempt and reason),
 *                             and no check for another open refund of the attempt
 *   BAD_EVENT_ID_AT_PUBLISH   the relay mints the event id when it publishes, not when written
 *   BAD_MARK_BEFORE_PUBLISH   the relay marks a row sent before its publish is confirmed
 */

/* ---- budgets (override with -D) ---- */
#ifndef CRASHES
#define CRASHES 1
#endif
#ifndef FAULTS
#define FAULTS 1          /* provider calls that fail or whose answer is lost */
#endif
#ifndef CALLBACKS
#define CALLBACKS 2       /* provider notifications that arrive (any may be lost: 0 is allowed) */
#endif
#ifndef LOCK_EXPIRIES
#define LOCK_EXPIRIES 1
#endif
#ifndef LOST_POLLS
#define LOST_POLLS 1      /* delayed poll messages stranded in a tier (the sweep restarts them) */
#endif
#ifndef OS_DOWN
#define OS_DOWN 1         /* failed calls to the order service */
#endif
#ifndef REFUND_SWEEPS
#define REFUND_SWEEPS 1
#endif
#ifndef MAXP
#define MAXP 2            /* polls before the clock must move on (time passes) */
#endif

/* ---- statuses ---- */
#define PO_UNPAID 0
#define PO_PAYING 1
#define PO_PAID 2
#define PO_CLOSED 3

#define A_NONE 0
#define A_PAYING 1
#define A_SUCCESS 2
#define A_FAILED 3
#define A_CLOSED 4

#define T_NONE 0          /* the provider knows no such trade */
#define T_WAITING 1
#define T_PAID 2
#define T_CLOSED 3        /* closed, or expired unpaid */

#define CARD 0            /* refundable, closable */
#define VOUCHER 1         /* cannot be refunded through the provider, cannot be closed */

#define R_PROCESSING 1
#define R_SUCCESS 2
#define R_FAILED 3
#define R_MANUAL 4        /* owed by hand: an operator pays it back (counted as returned) */
#define DUP 1
#define PAC 2

#define NONE 255
#define START 255         /* the channel_order.created event itself (no poll position yet) */

/* outcomes (ProviderOutcome.status) */
#define O_PAYING 0
#define O_SUCCESS 1
#define O_FAILED 2
#define O_CLOSED 3
#define O_ERROR 4
#define O_NOT_FOUND 5

/* what a settlement decided (Settlement.kind) */
#define K_NONE 0
#define K_PAID 1
#define K_DUP 2
#define K_KEEP 3
#define K_PAC 4
#define K_END 5

/* close answers (CloseResult) */
#define CL_CLOSED 0
#define CL_NOT_FOUND 1
#define CL_PAID 2
#define CL_NOT_SUPPORTED 3
#define CL_ERROR 4
/* closeAndSettle's result */
#define C_CLOSED 0
#define C_PAID 1
#define C_OPEN 2
#define C_ERROR 3

/* outbox rows */
#define EV_CREATED 1      /* channel_order.created -> poller */
#define EV_SUCCEEDED 2    /* payment.succeeded -> notifier (b: event id) */
#define EV_EXTRA 3        /* payment.duplicate_detected / paid_after_close -> refunder (b: reason) */
#define EV_REFUND 4       /* refund.requested -> refunder (a: refund row) */

/* ---- the database ---- */
byte po = PO_UNPAID;      /* the pay order (made by the cashier; an attempt makes it PAYING) */
byte kept = NONE;         /* paid_channel_order_no */
byte nAtt = 0;
byte aStatus[2];
byte aChan[2];
bool aUrl[2];             /* pay_url: the provider confirmed the create */
bool aClaim[2];           /* close_claimed_at */
byte aPoll[2];            /* poll_count */
byte nRef = 0;            /* refund_order rows */
byte rAtt[3];
byte rReason[3];
byte rSt[3];
chan outbox = [8] of { byte, byte, byte };
byte nextEvid = 1;
byte nDelivered = 0;      /* notification log: event ids delivered (bits) */

/* ---- the broker (durable queues; consumers ack after their work) ---- */
chan qPoll = [6] of { byte, byte, bool };   /* attempt, seq, closeTried */
chan qNotify = [3] of { byte, byte };       /* event id, step */
chan qExtra = [4] of { byte, byte };        /* attempt, reason */
chan qRefund = [4] of { byte, byte };       /* refund row, step */

/* ---- the world ---- */
byte trade[2];            /* at the provider */
bool creating[2];         /* a create sent whose request may still reach the provider */
byte provRefunds[2];      /* refund numbers the provider applied to the trade (bits) */
byte osEvents = 0;        /* event ids the order service accepted (bits) */
bool expired = false;
byte lockOwner = 0;       /* Redis order lock: 0 free, else the holder */

byte crashes = CRASHES;
byte faults = FAULTS;
byte callbacks = CALLBACKS;
byte lockExpiries = LOCK_EXPIRIES;
byte lostPolls = LOST_POLLS;
byte osDown = OS_DOWN;
byte refundSweeps = REFUND_SWEEPS;

#define CRASH(restart) if :: atomic { crashes > 0 -> crashes-- }; goto restart :: true fi
#define BIT(n) (1 << (n))

/* ---------------------------------------------------------------------------------------------
 * settleAttempt: lock the pay order, decide (decideSettlement, pure), apply with compare-and-set
 * updates and the events in the same transaction. The caller's process declares dk, dprev, dwas.
 * ------------------------------------------------------------------------------------------- */
inline decide(i, oc) {
  dk = K_NONE;
  dwas = aStatus[i];
  dprev = kept;
  if
  :: oc == O_SUCCESS && aStatus[i] != A_SUCCESS ->
     if
     :: po == PO_UNPAID || po == PO_PAYING -> dk = K_PAID
     :: po == PO_PAID && kept != i && aChan[i] == VOUCHER && aChan[kept] == CARD -> dk = K_KEEP
     :: po == PO_PAID && kept != i && !(aChan[i] == VOUCHER && aChan[kept] == CARD) -> dk = K_DUP
     :: po == PO_CLOSED -> dk = K_PAC
     :: else -> skip
     fi
  :: (oc == O_FAILED || oc == O_CLOSED) && aStatus[i] == A_PAYING -> dk = K_END
  :: else -> skip
  fi
}

#ifdef BAD_NO_FENCE
#define PO_FENCE(c) true
#define SETTLE_GAP } atomic {
#else
#define PO_FENCE(c) (c)
#define SETTLE_GAP
#endif

/* A compare-and-set that finds its row changed rolls the whole transaction back (TransientError). */
inline apply(i, oc) {
  if
  :: aStatus[i] != dwas -> dk = K_NONE
  :: else -> skip
  fi;
  if
  :: dk == K_PAID ->
     if
     :: PO_FENCE(po == PO_UNPAID || po == PO_PAYING) ->
        aStatus[i] = A_SUCCESS; po = PO_PAID; kept = i;
        assert(nfull(outbox)); outbox!EV_SUCCEEDED, i, nextEvid; nextEvid++
     :: else -> dk = K_NONE
     fi
  :: dk == K_KEEP ->
     if
     :: PO_FENCE(po == PO_PAID && kept == dprev) ->
        aStatus[i] = A_SUCCESS; kept = i;
        assert(nfull(outbox)); outbox!EV_EXTRA, dprev, DUP
     :: else -> dk = K_NONE
     fi
  :: dk == K_DUP -> aStatus[i] = A_SUCCESS; assert(nfull(outbox)); outbox!EV_EXTRA, i, DUP
  :: dk == K_PAC -> aStatus[i] = A_SUCCESS; assert(nfull(outbox)); outbox!EV_EXTRA, i, PAC
  :: dk == K_END ->
     if :: oc == O_FAILED -> aStatus[i] = A_FAILED :: else -> aStatus[i] = A_CLOSED fi;
     if
     :: po == PO_PAYING && aStatus[0] != A_PAYING && aStatus[1] != A_PAYING -> po = PO_UNPAID
     :: else -> skip
     fi
  :: else -> skip
  fi
}

inline settle(i, oc) {
  atomic {
    decide(i, oc);
    SETTLE_GAP
    apply(i, oc)
  }
}

/* ---- meaningOfQuery: "not found" is PAYING until the expiry, then FAILED or CLOSED ---- */
inline meaningOfQuery(i, ans, exp, oc) {
  if
  :: ans == O_NOT_FOUND && !exp -> oc = O_PAYING
  :: ans == O_NOT_FOUND && exp && aUrl[i] -> oc = O_CLOSED
  :: ans == O_NOT_FOUND && exp && !aUrl[i] -> oc = O_FAILED
  :: else -> oc = ans
  fi
}

/* ---- the provider's close of trade i (one call; a fault may close it and lose the answer) ---- */
inline providerClose(i, ans, exp) {
  atomic {
    exp = expired;
    if
    :: faults > 0 ->
       faults--;
       if :: trade[i] == T_WAITING && aChan[i] == CARD -> trade[i] = T_CLOSED :: true fi;
       ans = CL_ERROR
    :: true ->
       if
       :: trade[i] == T_NONE -> ans = CL_NOT_FOUND
       :: trade[i] == T_WAITING && aChan[i] == CARD -> trade[i] = T_CLOSED; ans = CL_CLOSED
       :: trade[i] == T_WAITING && aChan[i] == VOUCHER -> ans = CL_NOT_SUPPORTED
       :: trade[i] == T_PAID -> ans = CL_PAID
       :: trade[i] == T_CLOSED -> ans = CL_CLOSED
       fi
    fi
  }
}

/* ---- closeAndSettle: close at the provider, then settle what meaningOfClose makes of it ---- */
#ifdef BAD_NOT_FOUND_FINAL
#define NOT_FOUND_FINAL(exp) true
#else
#define NOT_FOUND_FINAL(exp) (exp)
#endif
inline closeAndSettle(i, ans, exp, cres) {
  providerClose(i, ans, exp);
  if
  :: ans == CL_CLOSED || (ans == CL_NOT_FOUND && NOT_FOUND_FINAL(exp)) ->
     settle(i, O_CLOSED); cres = C_CLOSED
  :: ans == CL_PAID -> settle(i, O_SUCCESS); cres = C_PAID
  :: ans == CL_ERROR -> cres = C_ERROR
  :: else -> cres = C_OPEN
  fi
}

/* ---------------------------------------------------------------------------------------------
 * The gateway: applyPayment under the order's Redis lock (which may expire), for channel ch.
 * ------------------------------------------------------------------------------------------- */
proctype gateway(byte me; byte ch) {
  byte i, j, other, ans, cres, dk, dprev, dwas;
  bool exp, again = true;
  atomic {
    if
    :: lockOwner == 0 -> lockOwner = me
    :: lockOwner != 0 -> goto done   /* PAYMENT_IN_PROGRESS */
    fi
  }
applyLocked:
  /* findPayOrder + attemptsOf (plain reads), decideApply */
  atomic {
    if
    :: po == PO_PAID || po == PO_CLOSED || expired -> goto release   /* refused */
    :: else -> skip
    fi;
    i = NONE; other = NONE; j = 0;
    do
    :: j < nAtt && aStatus[j] == A_PAYING && aChan[j] == ch -> i = j; j++
    :: j < nAtt && aStatus[j] == A_PAYING && aChan[j] != ch -> other = j; j++
    :: j < nAtt && aStatus[j] != A_PAYING -> j++
    :: j >= nAtt -> break
    od;
    if
    :: i != NONE && aUrl[i] -> goto release      /* 200: the same attempt again */
    :: i != NONE && !aUrl[i] -> goto create      /* recorded, never confirmed: finish the create */
    :: else -> skip
    fi
  }
  CRASH(done);
  /* DESIGN rule 2: close the other channel's attempt first; a voucher or a failed close goes on */
  if
  :: other != NONE ->
     closeAndSettle(other, ans, exp, cres);
     if :: cres == C_PAID && dk == K_PAID -> goto release :: else -> skip fi   /* ORDER_ALREADY_PAID */
     CRASH(done)
  :: else -> skip
  fi;
  /* assertStillLocked, then recordAttempt under the pay order's row lock */
  atomic {
    if :: lockOwner != me -> goto release :: else -> skip fi;
    if
    :: po == PO_PAID || po == PO_CLOSED -> goto release
    :: (nAtt > 0 && aStatus[0] == A_PAYING && aChan[0] == ch) ||
       (nAtt > 1 && aStatus[1] == A_PAYING && aChan[1] == ch) ->
       /* the in-flight key is taken: answer with that attempt */
       if :: again -> again = false; goto applyLocked :: else -> goto release fi
    :: else -> skip
    fi;
    assert(nAtt < 2);
    i = nAtt; nAtt++;
    aStatus[i] = A_PAYING; aChan[i] = ch;
    if :: po == PO_UNPAID -> po = PO_PAYING :: else -> skip fi
  }
create:
  CRASH(done);
  /* createTrade, idempotent by channelOrderNo, with the order's expiry */
  if
  :: atomic { trade[i] == T_NONE && !creating[i] && faults > 0 -> faults-- }
     /* refused, or a call that never left us: no trade */
     settle(i, O_FAILED);
     goto release
  :: atomic { faults > 0 -> faults--; if :: trade[i] == T_NONE -> creating[i] = true :: else -> skip fi }
     /* timed out: the trade may be made now or a moment from now; the poller finds out */
     CRASH(done);
     atomic { assert(nfull(outbox)); outbox!EV_CREATED, i, 0 }   /* announceAttempt */
     goto release
  :: atomic {
       if
       :: trade[i] == T_NONE && expired -> trade[i] = T_CLOSED; creating[i] = false
       :: trade[i] == T_NONE && !expired -> trade[i] = T_WAITING; creating[i] = false
       /* a page or QR trade the provider makes only once the shopper opens it (alipay-page) */
       :: trade[i] == T_NONE && !expired -> creating[i] = true
       :: trade[i] != T_NONE -> creating[i] = false
       fi
     }
  fi;
  CRASH(done);
  /* markCreated: the pay URL and channel_order.created, only if still PAYING and not claimed */
  atomic {
    if
    :: aStatus[i] == A_PAYING && !aClaim[i] ->
       aUrl[i] = true; assert(nfull(outbox)); outbox!EV_CREATED, i, 0; goto release
    :: else -> skip
    fi
  }
  /* settled meanwhile: close the trade, best effort, hand nothing out */
  atomic { if :: trade[i] == T_WAITING && aChan[i] == CARD -> trade[i] = T_CLOSED :: true fi }
release:
  atomic { if :: lockOwner == me -> lockOwner = 0 :: else -> skip fi }
done:
  skip
}

/* ---------------------------------------------------------------------------------------------
 * The provider (and the gateway's callback route, which settles what a callback says).
 * ------------------------------------------------------------------------------------------- */
#define TRADE_STEPS(i) \
  :: atomic { creating[i] -> creating[i] = false; \
       if :: trade[i] == T_NONE -> if :: expired -> trade[i] = T_CLOSED :: else -> trade[i] = T_WAITING fi \
          :: else -> skip fi } \
  :: atomic { creating[i] -> creating[i] = false } /* the create never arrives */ \
  :: atomic { trade[i] == T_WAITING && aUrl[i] && !expired -> trade[i] = T_PAID } /* the shopper pays */ \
  :: atomic { trade[i] == T_WAITING && expired -> trade[i] = T_CLOSED } /* expires unpaid */ \
  :: atomic { callbacks > 0 && trade[i] == T_PAID -> callbacks-- }; settle(i, O_SUCCESS); atomic { dk = 0; dprev = 0; dwas = 0 } \
  :: atomic { callbacks > 0 && (trade[i] == T_CLOSED || (trade[i] == T_PAID && provRefunds[i] != 0)) -> \
       callbacks-- }; settle(i, O_CLOSED); atomic { dk = 0; dprev = 0; dwas = 0 } /* TRADE_CLOSED, also after a full refund */

proctype provider() {
  byte dk, dprev, dwas;
end_provider:
  do
  TRADE_STEPS(0)
  TRADE_STEPS(1)
  /* the clock, and the Redis lock's expiry */
  :: atomic { !expired -> expired = true }
  :: atomic { lockOwner != 0 && lockExpiries > 0 -> lockExpiries--; lockOwner = 0 }
  od
}

/* ---------------------------------------------------------------------------------------------
 * The poller: pollAttempt for each message of its queue (decidePoll), and its sweep.
 * ------------------------------------------------------------------------------------------- */
/* The poller's sweep: requeue an attempt whose chain went missing; close an expired idle order. */
#define OVERDUE(i) \
  :: atomic { i < nAtt && aStatus[i] == A_PAYING && !qPoll??[eval(i), _, _] && nfull(qPoll) -> \
       aPoll[i]++; qPoll!i, aPoll[i], false }

/* Dead values are reset after each message: no state differs only by what a finished step left. */
#define RESET_POLLER i = 0; seq = 0; ct = 0; ans = 0; oc = 0; cl = 0; cres = 0; dk = 0; dprev = 0; dwas = 0; \
  exp = 0; found = 0
proctype poller() {
  byte i, seq, ans, oc, cl, cres, dk, dprev, dwas;
  bool ct, exp, found;
end_poller:
  do
  :: qPoll?<i, seq, ct> ->
     if
     :: seq == START ->
        /* startPolling: the first query after the schedule's first step */
        atomic {
          if :: lostPolls > 0 -> lostPolls-- :: true -> qPoll!i, 0, false fi;
          if :: crashes > 0 -> crashes-- :: true -> qPoll?i, seq, ct fi;
          RESET_POLLER; goto end_poller
        }
     :: else -> skip
     fi;
     /* time passes: a chain does not outrun the clock, nor an expired trade the provider's expiry */
     (seq < MAXP || expired);
     (seq < 2 * MAXP || aStatus[i] != A_PAYING || trade[i] != T_WAITING);
     atomic { if :: aStatus[i] != A_PAYING || aPoll[i] != seq -> goto ack :: else -> skip fi }
     /* queryTrade; meaningOfQuery */
     atomic {
       exp = expired;
       if
       :: faults > 0 -> faults--; ans = O_ERROR
       :: true ->
          if
          :: trade[i] == T_NONE -> ans = O_NOT_FOUND
          :: trade[i] == T_WAITING -> ans = O_PAYING
          :: trade[i] == T_PAID -> ans = O_SUCCESS
          :: trade[i] == T_CLOSED -> ans = O_CLOSED
          fi
       fi;
       found = (ans != O_ERROR && ans != O_NOT_FOUND);
       meaningOfQuery(i, ans, exp, oc)
     }
     CRASH(end_poller);
     /* decidePoll */
     if
     :: found && !aUrl[i] && aChan[i] == CARD && !exp && oc == O_PAYING ->
        /* CLOSE_UNCONFIRMED: claim, close, give the claim back if it did not end the attempt */
        atomic {
          if
          :: aStatus[i] == A_PAYING && !aUrl[i] && !aClaim[i] -> aClaim[i] = true
          :: else -> goto next   /* confirmed by a retried apply meanwhile */
          fi
        }
        CRASH(end_poller);
        closeAndSettle(i, cl, exp, cres);
        if :: cres == C_CLOSED || cres == C_PAID -> goto ack :: else -> skip fi;
        CRASH(end_poller);
        aClaim[i] = false;
        goto next
     :: exp && !ct && oc != O_SUCCESS && oc != O_ERROR ->
        /* CLOSE_EXPIRED */
        closeAndSettle(i, cl, exp, cres);
        if
        :: cres == C_CLOSED || cres == C_PAID -> goto ack
        :: cres == C_OPEN -> ct = true
        :: cres == C_ERROR -> oc = O_ERROR
        fi;
        CRASH(end_poller);
        if :: oc != O_PAYING && oc != O_ERROR -> goto settleIt :: else -> goto next fi
     :: oc != O_PAYING && oc != O_ERROR -> goto settleIt
     :: else -> goto next
     fi;
settleIt:
     settle(i, oc);
     goto ack;
next:
     /* claimNextPoll, then the delayed message (which a tier may strand) */
     atomic {
       if
       :: aStatus[i] == A_PAYING && aPoll[i] == seq -> aPoll[i] = seq + 1
       :: else -> goto ack
       fi
     }
     CRASH(end_poller);
     if :: atomic { lostPolls > 0 -> lostPolls-- } :: assert(nfull(qPoll)); qPoll!i, seq + 1, ct fi;
ack:
     atomic { qPoll?i, seq, ct; RESET_POLLER }
  /* the sweep (PollerSweeps.runOnce) */
  OVERDUE(0)
  OVERDUE(1)
  :: atomic { expired && (po == PO_UNPAID || po == PO_PAYING) &&
              aStatus[0] != A_PAYING && aStatus[1] != A_PAYING -> po = PO_CLOSED }
  od
}

/* ---------------------------------------------------------------------------------------------
 * The refunder: refundProblem, request (one row per attempt and reason), sendRefund.
 * ------------------------------------------------------------------------------------------- */
#ifdef BAD_SKIP_REFUND_CHECK
#define REFUND_OK(a, reason, self) true
#else
#ifdef BAD_REFUND_NO_PER_REQUEST
#define OPEN_REFUND(a, self) false
#else
#define OPEN_REFUND(a, self) \
  ((nRef > 0 && 0 != self && rAtt[0] == a && rSt[0] != R_FAILED) || \
   (nRef > 1 && 1 != self && rAtt[1] == a && rSt[1] != R_FAILED) || \
   (nRef > 2 && 2 != self && rAtt[2] == a && rSt[2] != R_FAILED))
#endif
#define REFUND_OK(a, reason, self) \
  (aStatus[a] == A_SUCCESS && kept != a && \
   ((reason == DUP && po == PO_PAID) || (reason == PAC && po == PO_CLOSED)) && !OPEN_REFUND(a, self))
#endif

#ifdef BAD_REFUND_NO_PER_REQUEST
#define EXISTING(a, reason) false
#else
#define EXISTING(a, reason) \
  ((nRef > 0 && rAtt[0] == a && rReason[0] == reason) || \
   (nRef > 1 && rAtt[1] == a && rReason[1] == reason) || \
   (nRef > 2 && rAtt[2] == a && rReason[2] == reason))
#endif

/* RefundRepository.request: one transaction under the pay order's lock, with refund.requested */
inline requestRefund(ra, rreason) {
  atomic {
    if
    :: EXISTING(ra, rreason) -> skip
    :: !EXISTING(ra, rreason) && REFUND_OK(ra, rreason, NONE) ->
       assert(nRef < 3);
       rAtt[nRef] = ra; rReason[nRef] = rreason; rSt[nRef] = R_PROCESSING;
       assert(nfull(outbox)); outbox!EV_REFUND, nRef, 0;
       nRef++
    :: else -> skip   /* REFUSED: an anomaly for a person, nothing sent */
    fi
  }
}

/* The refunder's sweeps. Its extra-charge scan is broader here than the real query (every success
 * without a refund, kept or not): the hard checks alone must keep the kept payment safe. */
#define EXTRA_SCAN(i) \
  :: atomic { refundSweeps > 0 && i < nAtt && aStatus[i] == A_SUCCESS && \
              !(nRef > 0 && rAtt[0] == i) && !(nRef > 1 && rAtt[1] == i) && !(nRef > 2 && rAtt[2] == i) -> \
       refundSweeps--; if :: po == PO_CLOSED -> a = PAC :: else -> a = DUP fi }; requestRefund(i, a)
#define STALLED(k) \
  :: atomic { nRef > k && rSt[k] == R_PROCESSING && !qRefund??[eval(k), _] && nfull(qRefund) -> qRefund!k, 1 }

proctype refunder() {
  byte a, reason, k, step, ans;
end_refunder:
  do
  :: atomic {
       qExtra?<a, reason> -> requestRefund(a, reason);
       if :: crashes > 0 -> crashes-- :: true -> qExtra?a, reason fi;
       a = 0; reason = 0
     }
  :: qRefund?<k, step> ->
     a = rAtt[k];
     if :: rSt[k] != R_PROCESSING -> goto ack :: else -> skip fi;
     if
     :: step > 0 ->
        /* queryRefund by its number */
        atomic {
          if
          :: provRefunds[a] & BIT(k) -> ans = R_SUCCESS
          :: else -> ans = NONE
          fi
        }
        if :: ans == R_SUCCESS -> goto finish :: else -> skip fi
     :: else -> skip
     fi;
     /* checkAndSend: the hard checks again, right before money moves */
     atomic {
       if
       :: !REFUND_OK(a, rReason[k], k) -> if :: rSt[k] == R_PROCESSING -> rSt[k] = R_FAILED :: else -> skip fi; goto ack
       :: else -> skip
       fi
     }
     if
     :: aChan[a] == VOUCHER ->
        atomic { if :: rSt[k] == R_PROCESSING -> assert(a != kept); rSt[k] = R_MANUAL :: else -> skip fi }
        goto ack
     :: else -> skip
     fi;
     CRASH(end_refunder);
     /* channel.refund, idempotent by refund number; its answer may be lost */
     atomic {
       if
       :: trade[a] == T_PAID ->
          assert(a != kept);                       /* the kept payment is never refunded */
          provRefunds[a] = provRefunds[a] | BIT(k);
          assert(provRefunds[a] == BIT(k));        /* no trade refunded under two numbers */
          if :: faults > 0 -> faults--; ans = NONE :: true -> ans = R_SUCCESS fi
       :: else -> ans = R_FAILED                   /* refused */
       fi
     }
     if
     :: ans == R_FAILED -> atomic { if :: rSt[k] == R_PROCESSING -> rSt[k] = R_FAILED :: else -> skip fi }; goto ack
     :: ans == NONE -> CRASH(end_refunder); assert(nfull(qRefund)); qRefund!k, 1; goto ack
     :: else -> skip
     fi;
finish:
     CRASH(end_refunder);
     atomic { if :: rSt[k] == R_PROCESSING -> rSt[k] = R_SUCCESS :: else -> skip fi }
ack:
     atomic { qRefund?k, step; k = 0; step = 0; a = 0; ans = 0 }
  /* its sweeps */
  EXTRA_SCAN(0)
  EXTRA_SCAN(1)
  STALLED(0)
  STALLED(1)
  STALLED(2)
  od
}



/* ---------------------------------------------------------------------------------------------
 * The notifier and the order service (which de-duplicates by eventId).
 * ------------------------------------------------------------------------------------------- */
proctype notifier() {
  byte e, step;
end_notifier:
  do
  :: atomic {
       qNotify?<e, step> ->
       if
       :: nDelivered & BIT(e) -> skip
       :: else ->
          if
          :: osDown > 0 -> osDown--;
             if :: crashes > 0 -> crashes--; goto end_notifier :: true fi;
             assert(nfull(qNotify)); qNotify!e, step + 1
          :: true -> osEvents = osEvents | BIT(e);
             if :: crashes > 0 -> crashes--; goto end_notifier :: true fi;
             nDelivered = nDelivered | BIT(e)
          fi
       fi;
       qNotify?e, step;
       e = 0; step = 0
     }
  od
}

/* ---------------------------------------------------------------------------------------------
 * The outbox relay: publish with confirms, then mark sent (a crash between republishes).
 * ------------------------------------------------------------------------------------------- */
inline publish(t, a, b) {
  atomic {
    if
    :: t == EV_CREATED -> assert(nfull(qPoll)); qPoll!a, START, false
#ifdef BAD_EVENT_ID_AT_PUBLISH
    :: t == EV_SUCCEEDED -> assert(nfull(qNotify)); qNotify!nextEvid, 0; nextEvid++
#else
    :: t == EV_SUCCEEDED -> assert(nfull(qNotify)); qNotify!b, 0
#endif
    :: t == EV_EXTRA -> assert(nfull(qExtra)); qExtra!a, b
    :: t == EV_REFUND -> assert(nfull(qRefund)); qRefund!a, 0
    fi
  }
}

proctype relay() {
  byte t, a, b;
end_relay:
  do
  :: atomic {
       outbox?<t, a, b> ->
#ifdef BAD_MARK_BEFORE_PUBLISH
       outbox?t, a, b;
       if :: crashes > 0 -> crashes-- :: true -> publish(t, a, b) fi
#else
       publish(t, a, b);
       if :: crashes > 0 -> crashes-- :: true -> outbox?t, a, b fi
#endif
       ; t = 0; a = 0; b = 0
     }
  od
}

/* ---------------------------------------------------------------------------------------------
 * The merchant's close (closePayment), the clock, the lock's expiry.
 * ------------------------------------------------------------------------------------------- */
proctype closer() {
  byte i, ans, cres, dk, dprev, dwas;
  bool exp;
  atomic {
    if
    :: lockOwner == 0 -> lockOwner = 3
    :: lockOwner != 0 -> goto done   /* PAYMENT_IN_PROGRESS */
    fi
  }
  atomic {
    if
    :: po == PO_PAID -> goto release   /* ORDER_ALREADY_PAID */
    :: po == PO_UNPAID || po == PO_PAYING -> po = PO_CLOSED   /* closePayOrder, with payment.closed */
    :: else -> skip
    fi
  }
  i = 0;
  do
  :: i < nAtt && aStatus[i] == A_PAYING -> closeAndSettle(i, ans, exp, cres); i++
  :: i < nAtt && aStatus[i] != A_PAYING -> i++
  :: i >= nAtt -> break
  od;
release:
  atomic { if :: lockOwner == 3 -> lockOwner = 0 :: else -> skip fi }
done:
  skip
}



/* ---------------------------------------------------------------------------------------------
 * The properties, once everything is quiet (nothing can move: every process idle or done).
 * ------------------------------------------------------------------------------------------- */
#define MANUAL_FOR(i) \
  ((nRef > 0 && rAtt[0] == i && rSt[0] == R_MANUAL) || (nRef > 1 && rAtt[1] == i && rSt[1] == R_MANUAL) || \
   (nRef > 2 && rAtt[2] == i && rSt[2] == R_MANUAL))
#define RETURNED(i) (provRefunds[i] != 0 || MANUAL_FOR(i))
#define KEPT_NET(i) (trade[i] == T_PAID && !RETURNED(i))
#define NKEPT ((KEPT_NET(0) -> 1 : 0) + (KEPT_NET(1) -> 1 : 0))
#define ONE_EVENT (osEvents == 2 || osEvents == 4 || osEvents == 8 || osEvents == 16)

proctype checker() {
  timeout ->
  atomic {
    /* 1. never more than one payment kept, net */
    assert(NKEPT <= 1);
    /* 2. every payment at the provider kept or given back (MANUAL_REQUIRED: owed by hand) */
    assert(po != PO_PAID || (kept != NONE && KEPT_NET(kept)));
    assert(NKEPT == (po == PO_PAID -> 1 : 0));
    /* nothing left in flight, our records agree with the provider */
    assert(aStatus[0] != A_PAYING && aStatus[1] != A_PAYING);
    assert(trade[0] != T_PAID || aStatus[0] == A_SUCCESS);
    assert(trade[1] != T_PAID || aStatus[1] == A_SUCCESS);
    /* 3. the kept payment is never refunded (nor owed back by hand) */
    assert(kept == NONE || !RETURNED(kept));
    /* 4. the order service heard of the kept payment, with one event id; of nothing else */
    assert(po != PO_PAID || ONE_EVENT);
    assert(po == PO_PAID || osEvents == 0)
  }
}

init {
  atomic {
    run provider();
    run poller();
    run refunder();
    run notifier();
    run relay();
    run checker();
    run gateway(1, CARD);
#ifndef NO_SECOND
#ifdef SECOND_CARD
    run gateway(2, CARD);        /* a double click */
#else
    run gateway(2, VOUCHER);     /* a second channel (the unrefundable voucher) */
#endif
#endif
#ifdef MERCHANT_CLOSE
    run closer()
#endif
  }
}
