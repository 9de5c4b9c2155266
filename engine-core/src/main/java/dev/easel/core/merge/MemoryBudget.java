package dev.easel.core.merge;

import java.util.concurrent.Semaphore;

/**
 * Bounds the tensor working memory of keys in flight across all threads. A key asks for its estimate before it is
 * read and gives it back once written; a key larger than the whole budget takes the whole budget and so runs alone.
 * Counted in KiB so that multi-gigabyte budgets fit a semaphore's int permits.
 */
public final class MemoryBudget {
    private final int permits;
    private final Semaphore semaphore;

    public MemoryBudget(long bytes) {
        this.permits = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes >> 10));
        this.semaphore = new Semaphore(permits, true);
    }

    /** Blocks until {@code bytes} (capped at the budget) are available; returns the permits to release. */
    public int acquire(long bytes) throws InterruptedException {
        int p = (int) Math.max(1, Math.min(permits, (bytes + 1023) >> 10));
        semaphore.acquire(p);
        return p;
    }

    public void release(int acquired) {
        semaphore.release(acquired);
    }
}
