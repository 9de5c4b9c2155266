package dev.easel.core.merge;

import java.nio.file.Path;
import java.util.List;

/**
 * What a finished merge did and where its time went.
 *
 * @param output       the file written
 * @param merged       keys computed by a merge method
 * @param copied       keys copied unchanged (non-float tensors, keys missing in some inputs)
 * @param dropped      keys left out (EMA copies unless kept)
 * @param bytesWritten tensor bytes in the output
 * @param warnings     what the planner reported (missing keys, fallbacks)
 * @param readNanos    time spent reading and converting inputs to float32, summed over threads
 * @param computeNanos time spent in merge methods, summed over threads
 * @param writeNanos   time spent converting results to the output type and writing them, summed over threads
 * @param wallNanos    elapsed time of the whole merge, planning included
 */
public record MergeResult(Path output, int merged, int copied, int dropped, long bytesWritten,
                          List<String> warnings, long readNanos, long computeNanos, long writeNanos,
                          long wallNanos) {
    public MergeResult {
        warnings = List.copyOf(warnings);
    }
}
