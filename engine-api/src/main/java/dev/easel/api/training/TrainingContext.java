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
}
