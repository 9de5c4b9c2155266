package dev.easel.core.osgi;

import static dev.easel.core.osgi.TestBundles.bundle;
import static dev.easel.core.osgi.TestBundles.versionedMerge;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import dev.easel.core.plugin.PluginKind;
import dev.easel.core.plugin.PluginLease;
import dev.easel.core.plugin.PluginRecord;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.plugin.PluginState;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.testplugins.FailingConstructorMerge;
import dev.easel.core.testplugins.ThrowingActivator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The plugin host with a real embedded Felix and real bundle jars. */
class PluginHostTest {
    private static final Duration POLL = Duration.ofMillis(200);
    private static final long FIVE_SECONDS = 5_000;

    @TempDir
    Path dir;

    private PluginRegistry registry;
    private ComputeRuntime runtime;
    private PluginHost host;
    private NDManager manager;

    @BeforeEach
    void startHost() {
        registry = new PluginRegistry();
        runtime = new ComputeRuntime();
        host = new PluginHost(registry, runtime).start();
        manager = runtime.newManager();
    }

    @AfterEach
    void stopHost() {
        manager.close();
        host.close();
        runtime.close();
    }

    @Test
    void hotReloadKeepsARunningJobOnItsVersionAndGivesNewJobsTheNewOne() throws Exception {
        host.watch(dir, POLL);
        Path v1 = versionedMerge("test.versioned", "1.0.0").writeTo(dir.resolve("versioned-1.0.0.jar"));
        awaitTrue(() -> versionsOf("probe/versioned").equals(List.of("1.0.0")), "v1 registered within 5 s");

        // A long job takes v1 and is still running when v2 arrives.
        PluginLease<MergeAlgorithm> jobOnV1 = registry.lease(PluginKind.MERGE_ALGORITHM, "probe/versioned",
                MergeAlgorithm.class);
        long v1Bundle = jobOnV1.record().origin().bundleId();
        CountDownLatch v2Live = new CountDownLatch(1);
        ExecutorService jobs = Executors.newSingleThreadExecutor();
        Future<Float> v1Result = jobs.submit(() -> {
            v2Live.await();
            return run(jobOnV1.get());
        });

        Path v2 = versionedMerge("test.versioned", "2.0.0").writeTo(dir.resolve("versioned-2.0.0.jar"));
        awaitTrue(() -> registry.select(PluginKind.MERGE_ALGORITHM, "probe/versioned").version().equals("2.0.0"),
                "v2 selected within 5 s");
        assertEquals(PluginState.DRAINING, stateOf("probe/versioned", "1.0.0"), "v1 drains while the job runs");
        assertTrue(host.installedBundles().containsKey(v1Bundle), "v1 stays installed while leased");

        try (PluginLease<MergeAlgorithm> newJob = registry.lease(PluginKind.MERGE_ALGORITHM, "probe/versioned",
                MergeAlgorithm.class)) {
            assertEquals("2.0.0", newJob.record().version());
            assertEquals(2f, run(newJob.get()), "a new job computes with v2");
        }

        v2Live.countDown();
        assertEquals(1f, v1Result.get(10, TimeUnit.SECONDS), "the running job finished on v1");
        jobs.shutdown();
        jobOnV1.close();
        awaitTrue(() -> !host.installedBundles().containsKey(v1Bundle), "v1 retired once its job ended");
        assertEquals(List.of("2.0.0"), versionsOf("probe/versioned"));

        Files.delete(v1);
        Files.delete(v2);
        awaitTrue(() -> versionsOf("probe/versioned").isEmpty(), "services gone after the bundle is removed");
        assertTrue(host.installedBundles().isEmpty(), "nothing left installed: " + host.installedBundles());
    }

    @Test
    void removingTheNewerFileRestoresTheOlderOne() throws Exception {
        host.watch(dir, POLL);
        versionedMerge("test.rollback", "1.0.0").writeTo(dir.resolve("a-1.jar"));
        awaitTrue(() -> versionsOf("probe/versioned").equals(List.of("1.0.0")), "v1");
        Path v2 = versionedMerge("test.rollback", "2.0.0").writeTo(dir.resolve("a-2.jar"));
        awaitTrue(() -> versionsOf("probe/versioned").equals(List.of("2.0.0")), "v2 replaced v1 (no job held v1)");
        Files.delete(v2);
        awaitTrue(() -> versionsOf("probe/versioned").equals(List.of("1.0.0")), "v1 back after v2's removal");
    }

    @Test
    void bundleBuiltForAnotherEngineApiIsRefusedWithTheReason() throws Exception {
        Path jar = versionedMerge("test.future", "1.0.0")
                .imports("dev.easel.api;version=\"[2.0,3)\",dev.easel.api.merge;version=\"[2.0,3)\","
                        + "ai.djl.ndarray;version=\"[0.36,0.37)\",ai.djl.engine")
                .writeTo(dir.resolve("future.jar"));
        assertEquals(PluginHost.InstallOutcome.REFUSED, host.install(jar));
        PluginRecord refused = only(registry.list());
        assertEquals(PluginState.REFUSED, refused.state());
        assertEquals(PluginKind.MERGE_ALGORITHM, refused.kind());
        assertEquals("test.future", refused.id());
        assertTrue(refused.reason().contains("requires engine-api package dev.easel.api [2.0,3) but this host "
                + "provides 1.0.0"), refused.reason());
        assertTrue(host.installedBundles().isEmpty());
    }

    @Test
    void brokenBundlesAreReportedAndTheHostCarriesOn() throws Exception {
        Files.writeString(dir.resolve("corrupt.jar"), "this is not a zip file");
        Path truncated = versionedMerge("test.truncated", "1.0.0").writeTo(dir.resolve("t.tmp"));
        byte[] bytes = Files.readAllBytes(truncated);
        Files.write(dir.resolve("truncated.jar"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        Files.delete(truncated);
        bundle("test.throwing", "1.0.0").imports("").activator(ThrowingActivator.class)
                .writeTo(dir.resolve("throwing.jar"));
        bundle("test.failing", "1.0.0")
                .service(MergeAlgorithm.class, FailingConstructorMerge.class).writeTo(dir.resolve("failing.jar"));
        versionedMerge("test.good", "1.0.0").writeTo(dir.resolve("good.jar"));

        host.watch(dir, POLL);

        Map<String, String> reasons = registry.list().stream().filter(r -> r.state() == PluginState.REFUSED)
                .collect(Collectors.toMap(r -> Path.of(r.origin().location()).getFileName().toString(),
                        PluginRecord::reason, (a, b) -> a + "; " + b));
        assertTrue(reasons.get("corrupt.jar").contains("not a jar"), reasons.toString());
        assertTrue(reasons.containsKey("truncated.jar"), reasons.toString());
        assertTrue(reasons.get("throwing.jar").contains("activator failed")
                && reasons.get("throwing.jar").contains("boom from the activator"), reasons.toString());
        assertTrue(reasons.get("failing.jar").contains("cannot initialise"), reasons.toString());
        assertEquals(List.of("1.0.0"), versionsOf("probe/versioned"), "the good bundle still works");
        try (PluginLease<MergeAlgorithm> lease = registry.lease(PluginKind.MERGE_ALGORITHM, "probe/versioned",
                MergeAlgorithm.class)) {
            assertEquals(1f, run(lease.get()));
        }
    }

    @Test
    void sameVersionWithOtherBytesIsRefusedWhileInUse() throws Exception {
        Path jar = versionedMerge("test.same", "1.0.0").writeTo(dir.resolve("same.jar"));
        assertEquals(PluginHost.InstallOutcome.INSTALLED, host.install(jar));
        assertEquals(PluginHost.InstallOutcome.UNCHANGED, host.install(jar));
        try (PluginLease<MergeAlgorithm> lease = registry.lease(PluginKind.MERGE_ALGORITHM, "probe/versioned",
                MergeAlgorithm.class)) {
            versionedMerge("test.same", "1.0.0").resource("extra.txt", "changed").writeTo(jar);
            assertEquals(PluginHost.InstallOutcome.REFUSED, host.install(jar));
            assertTrue(registry.list().stream().anyMatch(r -> r.reason().contains("higher Bundle-Version")));
            assertEquals(1f, run(lease.get()), "the running version is untouched");
        }
        assertEquals(PluginHost.InstallOutcome.INSTALLED, host.install(jar), "replaced once no job holds it");
    }

    @Test
    void twoBundlesComputeWithNdArraysOnTheOneHostEngine() throws Exception {
        host.install(versionedMerge("test.first", "1.0.0").writeTo(dir.resolve("first.jar")));
        host.install(versionedMerge("test.second", "3.0.0").writeTo(dir.resolve("second.jar")));
        List<MergeAlgorithm> algorithms = registry.services(MergeAlgorithm.class);
        assertEquals(2, algorithms.size());
        assertNotSame(algorithms.get(0).getClass(), algorithms.get(1).getClass(),
                "each bundle has its own class loader");
        assertNotEquals(getClass().getClassLoader(), algorithms.get(0).getClass().getClassLoader());
        String hostEngine = "engine@" + System.identityHashCode(Engine.getInstance());
        float sum = 0;
        for (MergeAlgorithm a : algorithms) {
            assertEquals(hostEngine, a.descriptor().description(), "the bundle sees the host's engine");
            sum += run(a);
        }
        assertEquals(4f, sum, "1 from the first bundle, 3 from the second");
    }

    private float run(MergeAlgorithm algorithm) {
        try (NDManager m = manager.newSubManager()) {
            NDArray input = m.create(new float[] {5f, 6f, 7f});
            MergeContext ctx = new MergeContext() {
                @Override
                public String key() {
                    return "k";
                }

                @Override
                public String block() {
                    return "BASE";
                }

                @Override
                public NDManager manager() {
                    return m;
                }

                @Override
                public long seed() {
                    return 0;
                }
            };
            NDArray out = algorithm.merge(ctx, List.of(input), new ParameterValues(Map.of()));
            float[] values = out.toFloatArray();
            assertEquals(values[0], values[2]);
            return values[0];
        }
    }

    private List<String> versionsOf(String id) {
        return registry.list().stream().filter(r -> r.id().equals(id) && r.state() == PluginState.ACTIVE)
                .map(PluginRecord::version).collect(Collectors.toList());
    }

    private PluginState stateOf(String id, String version) {
        return registry.list().stream().filter(r -> r.id().equals(id) && r.version().equals(version))
                .map(PluginRecord::state).findFirst().orElse(null);
    }

    private static PluginRecord only(List<PluginRecord> records) {
        assertEquals(1, records.size(), records.toString());
        return records.get(0);
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.currentTimeMillis() + FIVE_SECONDS;
        while (System.currentTimeMillis() < end) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (java.util.NoSuchElementException notYet) {
                // keep waiting
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out: " + what);
    }
}
