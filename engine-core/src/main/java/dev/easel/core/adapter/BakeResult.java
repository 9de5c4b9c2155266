package dev.easel.core.adapter;

import java.nio.file.Path;
import java.util.List;

/**
 * What a bake did.
 *
 * @param output      the written file
 * @param modules     adapter modules applied
 * @param patchedKeys checkpoint keys changed
 * @param copiedKeys  checkpoint keys copied unchanged
 * @param warnings    skipped modules and other notes
 * @param timings     where the time went (read, delta, narrowing, writing, raw copies), summed over threads
 * @param wallNanos   elapsed time
 */
public record BakeResult(Path output, int modules, int patchedKeys, int copiedKeys, List<String> warnings,
                         String timings, long wallNanos) {
    public BakeResult {
        warnings = List.copyOf(warnings);
    }
}
