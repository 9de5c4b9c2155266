package dev.easel.api.training;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.easel.api.adapter.AdapterType;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What the engine hands a method when a job starts. Implemented by the engine.
 */
@ProviderType
public interface TrainingContext {
    /** The job's manager: arrays created here live until the job ends. */
    NDManager manager();

    /** The compute device of the job. */
    Device device();

    /** The job's seed. */
    long seed();

    /** The networks of the base model and the hooks into them. */
    NetworkHooks network();

    /** The noise schedule of the base model. */
    DiffusionSchedule schedule();

    /**
     * An installed adapter type, selected by id or {@code id@range} ({@code lora/kohya@[1,2)}), leased for the job
     * so a hot update of its bundle does not pull it away mid-run.
     *
     * @throws java.util.NoSuchElementException naming the id and what is installed
     */
    AdapterType adapterType(String selector);

    /**
     * Reads every floating-point tensor of a file into the job's manager as float32, by name: what a method needs to
     * start from an earlier result (kohya's {@code network_weights}, an embedding to continue). Any format the engine
     * reads: safetensors, and PyTorch {@code .pt}/{@code .ckpt} read without executing pickle code. Tensors of other
     * element types are left out.
     *
     * @throws java.io.IOException naming the file, if it is missing or not in a known format
     * @since 0.12.0
     */
    java.util.Map<String, ai.djl.ndarray.NDArray> readTensors(java.nio.file.Path file) throws java.io.IOException;
}
