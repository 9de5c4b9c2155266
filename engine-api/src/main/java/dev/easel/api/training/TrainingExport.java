package dev.easel.api.training;

import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Where a method writes its result. Every output is atomic: nothing appears under the output folder until the
 * sink is committed or the stream closed without error.
 */
@ProviderType
public interface TrainingExport {
    /** The job's output name ({@code output_name}); methods derive file names from it. */
    String outputName();

    /** Provenance to merge into file metadata (base model hash, engine and plugin versions, parameters). */
    Map<String, String> provenance();

    /** Starts a tensor file in the given format ({@code format/safetensors}). */
    TensorSink tensors(String fileName, String formatId, WritePlan plan) throws IOException;

    /**
     * Writes {@code root} as {@code torch.save} would (a zip holding a protocol-2 pickle and the tensors' storages),
     * using only what {@code torch.load(weights_only=True)} and AUTOMATIC1111's safe unpickler accept: AUTOMATIC1111
     * embeddings and hypernetworks are such files.
     *
     * @param root a tree of {@code Map}s (string or integer keys, iteration order kept), {@code List}s,
     *             {@code String}s, {@code Integer}/{@code Long}, {@code Float}/{@code Double}, {@code Boolean},
     *             {@code null} (Python's {@code None}) and {@code NDArray}s (saved as contiguous tensors of their own
     *             data type; arrays that are the same object share one storage)
     * @throws IllegalArgumentException if the tree holds anything else
     * @since 0.11
     */
    void torchSave(String fileName, Object root) throws IOException;

    /** Starts an arbitrary file (a pickle written by a method's own writer, a JSON sidecar). */
    OutputStream file(String fileName) throws IOException;
}
