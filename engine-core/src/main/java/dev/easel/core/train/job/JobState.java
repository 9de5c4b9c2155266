package dev.easel.core.train.job;

import java.util.Locale;

/** Where a training job is in its life. */
public enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** Whether the job will not change any more. */
    public boolean finished() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** The name in JSON ({@code running}). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
