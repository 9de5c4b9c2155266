package dev.easel.core.merge;

/**
 * Receives progress from a running merge (the CLI draws a progress bar, the server sends events). Called from
 * worker threads; implementations must be thread-safe and fast.
 */
public interface MergeProgress {
    /** A listener that ignores everything. */
    MergeProgress NONE = new MergeProgress() {
        @Override
        public void started(int keys, long bytes) {
        }

        @Override
        public void keyDone(String key, long bytes) {
        }
    };

    /** The plan is made: this many keys and output bytes will be written. */
    void started(int keys, long bytes);

    /** One key was written. */
    void keyDone(String key, long bytes);
}
