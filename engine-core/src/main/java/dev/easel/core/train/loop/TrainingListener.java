package dev.easel.core.train.loop;

import java.nio.file.Path;

/** What a running job reports: the CLI's progress bar and the server's job status listen to it. */
public interface TrainingListener {
    /** A new phase: {@code loading}, {@code caching}, {@code training}, {@code saving}. */
    default void phase(String phase) {
    }

    /** Latent caching progress. */
    default void caching(int done, int total) {
    }

    /** Training starts (or resumes) at {@code step} of {@code total}. */
    default void started(long step, long total) {
    }

    /** One optimiser step done. */
    default void step(StepReport report) {
    }

    /** A file was written (result, checkpoint result, preview, state folder). */
    default void output(Path file) {
    }

    /** A warning line, naming the key or file it is about. */
    default void warning(String line) {
    }

    /** Ignores everything. */
    TrainingListener NONE = new TrainingListener() { };
}
