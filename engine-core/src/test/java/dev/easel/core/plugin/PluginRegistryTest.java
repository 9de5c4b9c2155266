package dev.easel.core.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PluginRegistryTest {
    private static MergeAlgorithm merge(String id, String version) {
        return new MergeAlgorithm() {
            @Override
            public PluginDescriptor descriptor() {
                return PluginDescriptor.of(id, version, "test");
            }

            @Override
            public List<String> inputs() {
                return List.of("a", "b");
            }

            @Override
            public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
                return inputs.get(0);
            }
        };
    }

    private static PluginOrigin bundle(long id) {
        return new PluginOrigin("b" + id, "1.0.0", id, "/plugins/b" + id + ".jar");
    }

    @Test
    void selectsHighestVersionInRangeByIdOrFamily() {
        PluginRegistry r = new PluginRegistry();
        r.register(merge("slerp/basic", "1.0.0"), bundle(1));
        r.register(merge("slerp/basic", "1.4.2"), bundle(2));
        r.register(merge("slerp/basic", "2.0.0"), bundle(3));
        assertEquals("2.0.0", r.select(PluginKind.MERGE_ALGORITHM, "slerp/basic").version());
        assertEquals("2.0.0", r.select(PluginKind.MERGE_ALGORITHM, "slerp").version());
        assertEquals("1.4.2", r.select(PluginKind.MERGE_ALGORITHM, "slerp/basic@[1.0,2.0)").version());
        assertEquals("1.0.0", r.select(PluginKind.MERGE_ALGORITHM, "slerp@[1.0.0,1.0.0]").version());
        PluginNotFoundException e = assertThrows(PluginNotFoundException.class,
                () -> r.select(PluginKind.MERGE_ALGORITHM, "slerp/basic@[3,4)"));
        assertTrue(e.getMessage().contains("installed: slerp/basic 1.0.0, slerp/basic 1.4.2, slerp/basic 2.0.0"),
                e.getMessage());
    }

    @Test
    void unknownIdListsWhatIsAvailableAndFamilyWithRivalsIsAmbiguous() {
        PluginRegistry r = new PluginRegistry();
        r.register(merge("ties/mecha", "1.0.0"), bundle(1));
        r.register(merge("ties/mergekit", "1.0.0"), bundle(2));
        PluginNotFoundException missing = assertThrows(PluginNotFoundException.class,
                () -> r.select(PluginKind.MERGE_ALGORITHM, "dare"));
        assertTrue(missing.getMessage().contains("available: ties/mecha, ties/mergekit"), missing.getMessage());
        PluginNotFoundException ambiguous = assertThrows(PluginNotFoundException.class,
                () -> r.select(PluginKind.MERGE_ALGORITHM, "ties"));
        assertTrue(ambiguous.getMessage().contains("ambiguous"), ambiguous.getMessage());
        assertEquals("ties/mergekit", r.select(PluginKind.MERGE_ALGORITHM, "ties/mergekit").id());
        assertThrows(PluginNotFoundException.class, () -> r.select(PluginKind.TRAINING_METHOD, "ties/mecha"));
    }

    @Test
    void identicalIdAndVersionFromAnotherBundleIsRefused() {
        PluginRegistry r = new PluginRegistry();
        r.register(merge("x/y", "1.0.0"), bundle(1));
        PluginRecord second = r.register(merge("x/y", "1.0.0"), bundle(2));
        assertEquals(PluginState.REFUSED, second.state());
        assertTrue(second.reason().contains("already provided by b1"), second.reason());
        assertEquals(1, r.services(MergeAlgorithm.class).size());
    }

    @Test
    void drainingHidesFromNewJobsAndNotifiesWhenTheLastLeaseCloses() {
        PluginRegistry r = new PluginRegistry();
        List<Long> drained = new ArrayList<>();
        r.onDrained(drained::add);
        r.register(merge("x/y", "1.0.0"), bundle(1));
        PluginLease<MergeAlgorithm> a = r.lease(PluginKind.MERGE_ALGORITHM, "x/y", MergeAlgorithm.class);
        PluginLease<MergeAlgorithm> b = r.lease(PluginKind.MERGE_ALGORITHM, "x/y", MergeAlgorithm.class);
        r.register(merge("x/y", "2.0.0"), bundle(2));
        assertEquals(false, r.drain(1, "superseded"));
        assertEquals("2.0.0", r.select(PluginKind.MERGE_ALGORITHM, "x/y").version());
        assertEquals(2, r.leaseCount(1));
        a.close();
        a.close();
        assertEquals(List.of(), drained, "one job still runs");
        assertEquals("x/y", b.get().descriptor().id(), "the running job keeps its service");
        b.close();
        assertEquals(List.of(1L), drained);
        assertThrows(IllegalStateException.class, b::get);
    }

    @Test
    void versionRangesFollowOsgiNotation() {
        assertTrue(VersionRange.parse("[1.0,2.0)").includes(dev.easel.api.SemanticVersion.parse("1.9.9")));
        assertTrue(!VersionRange.parse("[1.0,2.0)").includes(dev.easel.api.SemanticVersion.parse("2.0.0")));
        assertTrue(VersionRange.parse("(1.0,2.0]").includes(dev.easel.api.SemanticVersion.parse("2.0.0")));
        assertTrue(!VersionRange.parse("(1.0,2.0]").includes(dev.easel.api.SemanticVersion.parse("1.0.0")));
        assertTrue(VersionRange.parse("1.2").includes(dev.easel.api.SemanticVersion.parse("7.0.0")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> VersionRange.parse("[2,1)"));
        assertTrue(e.getMessage().contains("[2,1)"));
        assertThrows(IllegalArgumentException.class, () -> PluginSelector.parse("x/y@[1"));
    }
}
