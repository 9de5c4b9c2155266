package dev.easel.core.merge;

import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.util.List;

/**
 * A validated merge, ready to run: the opened (header-only) models, one task per output key and the output's
 * write plan. Making one reads no tensor data; every input error is found while making it. Close it to release the
 * models and the leased algorithms.
 */
public final class MergePlan implements AutoCloseable {
    private final MergeRequest request;
    private final List<TensorSource> sources;
    private final List<CompiledMerge> merges;
    private final List<KeyTask> tasks;
    private final WritePlan writePlan;
    private final List<String> warnings;
    private final ModelArchitecture architecture;
    private final int dropped;

    MergePlan(MergeRequest request, List<TensorSource> sources, List<CompiledMerge> merges, List<KeyTask> tasks,
              WritePlan writePlan, List<String> warnings, ModelArchitecture architecture, int dropped) {
        this.request = request;
        this.sources = List.copyOf(sources);
        this.merges = List.copyOf(merges);
        this.tasks = List.copyOf(tasks);
        this.writePlan = writePlan;
        this.warnings = List.copyOf(warnings);
        this.architecture = architecture;
        this.dropped = dropped;
    }

    /** The request planned. */
    public MergeRequest request() {
        return request;
    }

    /** The output file's tensors and metadata. */
    public WritePlan writePlan() {
        return writePlan;
    }

    /** Policy notes for the user (missing keys and where they were taken from, dropped EMA keys). */
    public List<String> warnings() {
        return warnings;
    }

    /** The architecture of the first model. */
    public ModelArchitecture architecture() {
        return architecture;
    }

    /** Keys computed by a method. */
    public int mergedKeys() {
        return (int) tasks.stream().filter(t -> t.plan() instanceof KeyPlan.Apply).count();
    }

    /** Keys copied from one model (possibly converted to the output type). */
    public int copiedKeys() {
        return tasks.size() - mergedKeys();
    }

    /** Keys of the inputs left out of the output. */
    public int droppedKeys() {
        return dropped;
    }

    /** Bytes of tensor data the output will hold. */
    public long outputBytes() {
        return tasks.stream().mapToLong(t -> t.output().byteSize()).sum();
    }

    List<TensorSource> sources() {
        return sources;
    }

    List<KeyTask> tasks() {
        return tasks;
    }

    @Override
    public void close() {
        for (CompiledMerge m : merges) {
            m.lease.close();
        }
        for (TensorSource s : sources) {
            try {
                s.close();
            } catch (IOException e) {
                // Closing a read-only source cannot lose data; nothing to report to the user.
            }
        }
    }
}
