package dev.easel.core.merge;

import dev.easel.core.format.RangeSink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A single writer thread for the element-wise fast path (and the LoRA bake's fused path): compute threads fill staging buffers from a small fixed
 * pool and hand them over, then go on computing while the writer does the positional writes. Without it, a thread
 * blocked in a write (the kernel copying into the page cache, or throttling dirty pages) leaves its core idle; with
 * it, a merge takes about the longer of computing and writing rather than their sum. Memory is bounded by the pool:
 * when every buffer is in flight, producers wait.
 */
public final class WriteBehind implements AutoCloseable {
    /** A write, or with {@code done} set a marker that everything before it is written. */
    private record Job(String name, long offset, ByteBuffer data, CountDownLatch done) {
    }

    private static final Job STOP = new Job(null, 0, null, null);

    private final RangeSink sink;
    private final BlockingQueue<ByteBuffer> free;
    private final BlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;

    public WriteBehind(RangeSink sink, int buffers, int bufferBytes) {
        this.sink = sink;
        this.free = new ArrayBlockingQueue<>(buffers);
        for (int i = 0; i < buffers; i++) {
            free.add(ByteBuffer.allocateDirect(bufferBytes));
        }
        this.thread = new Thread(this::loop, "easel-merge-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /** An empty buffer of the pool; waits while all are being written. */
    public ByteBuffer take() throws InterruptedException {
        rethrow();
        return free.take().clear();
    }

    /**
     * Queues {@code data} (position to limit, a buffer from {@link #take()}) for writing at byte {@code offset} of
     * tensor {@code name}; the buffer goes back to the pool once written.
     */
    public void submit(String name, long offset, ByteBuffer data) {
        rethrow();
        jobs.add(new Job(name, offset, data, null));
    }

    /** Waits until everything submitted is written (jobs run in order, so a marker job is enough). */
    public void finish() throws IOException, InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        jobs.add(new Job(null, 0, null, done));
        done.await();
        Throwable t = failure.get();
        if (t instanceof IOException e) {
            throw e;
        }
        rethrow();
    }

    private void rethrow() {
        Throwable t = failure.get();
        if (t instanceof IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t.getMessage(), t);
        }
    }

    private void loop() {
        while (true) {
            Job job;
            try {
                job = jobs.take();
            } catch (InterruptedException e) {
                return;
            }
            if (job == STOP) {
                return;
            }
            if (job.done() != null) {
                job.done().countDown();
                continue;
            }
            try {
                if (failure.get() == null) {
                    sink.writeRange(job.name(), job.offset(), job.data());
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            } finally {
                free.add(job.data());
            }
        }
    }

    @Override
    public void close() {
        jobs.add(STOP);
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
