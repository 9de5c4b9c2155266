package dev.easel.core.runtime;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.BuildInfo;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the DJL PyTorch engine once, offline, and owns the root {@link NDManager} of the process.
 *
 * <p>libtorch comes from the {@code pytorch-native-cpu} jar on the host class path; {@code ai.djl.offline=true}
 * forbids DJL from downloading anything. Start it on the host thread before the OSGi framework: DJL discovers
 * engines through the thread context class loader on first touch, and the native library is then bound to the
 * host's loader, which every bundle shares.
 */
@Singleton
public final class ComputeRuntime implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ComputeRuntime.class);

    private volatile Engine engine;
    private volatile NDManager rootManager;

    /** Sets the offline properties DJL reads; safe to call more than once. */
    public static void configureOffline() {
        setIfAbsent("ai.djl.offline", "true");
        setIfAbsent("ai.djl.default_engine", "PyTorch");
        setIfAbsent("OPT_OUT_TRACKING", "true");
        setIfAbsent("ai.djl.pytorch.graph_optimizer", "false");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    /** Loads libtorch (once per process) and checks that it computes. Idempotent. */
    public synchronized ComputeRuntime start() {
        if (engine != null) {
            return this;
        }
        configureOffline();
        Thread current = Thread.currentThread();
        ClassLoader previous = current.getContextClassLoader();
        current.setContextClassLoader(ComputeRuntime.class.getClassLoader());
        long t0 = System.nanoTime();
        try {
            Engine e = Engine.getEngine("PyTorch");
            NDManager root = e.newBaseManager(Device.cpu());
            try (NDManager probe = root.newSubManager()) {
                NDArray x = probe.create(new float[] {1f, 2f, 3f});
                float sum = x.sum().getFloat();
                if (sum != 6f) {
                    throw new IllegalStateException("libtorch self-check failed: 1+2+3 = " + sum);
                }
            }
            this.engine = e;
            this.rootManager = root;
            LOG.info("compute runtime: DJL {} with PyTorch {} on {} ({} ms)", BuildInfo.djlVersion(), e.getVersion(),
                    device(), (System.nanoTime() - t0) / 1_000_000);
        } catch (RuntimeException | UnsatisfiedLinkError ex) {
            throw new IllegalStateException("could not start the PyTorch engine (libtorch " + BuildInfo.pytorchVersion()
                    + " from the pytorch-native-cpu jar, offline): " + ex.getMessage(), ex);
        } finally {
            current.setContextClassLoader(previous);
        }
        return this;
    }

    /** The engine; starts the runtime if needed. */
    public Engine engine() {
        return start().engine;
    }

    /** The device jobs run on: the first GPU if libtorch sees one, else the CPU. */
    public Device device() {
        Engine e = engine;
        return e != null && e.getGpuCount() > 0 ? Device.gpu() : Device.cpu();
    }

    /** A new manager for one job or one unit of work; closing it frees its native memory. */
    public NDManager newManager() {
        return start().rootManager.newSubManager(device());
    }

    /**
     * Sets how many threads libtorch's parallel loops and BLAS use for the work the calling thread starts, and
     * returns the previous count so that the caller can put it back (OpenMP's count is per thread, but BLAS's may be
     * process-wide). Work that already runs one task per core sets 1: nested thread teams on shared cores spend
     * their time at barriers, waiting for peers the scheduler has put aside.
     */
    public int intraOpThreads(int threads) {
        start();
        int previous = ai.djl.pytorch.jni.JniUtils.getNumThreads();
        ai.djl.pytorch.jni.JniUtils.setNumThreads(threads);
        return previous;
    }

    @Override
    public synchronized void close() {
        if (rootManager != null) {
            rootManager.close();
            rootManager = null;
        }
    }
}
