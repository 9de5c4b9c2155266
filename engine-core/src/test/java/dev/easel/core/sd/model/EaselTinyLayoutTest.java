package dev.easel.core.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Easel Tiny has SD 1.5's key layout: every key SD 1.5 has (its text encoder's first layers), of the same rank. */
class EaselTinyLayoutTest {
    @Test
    void keysAreSd15KeysOfTheSameRank() throws IOException {
        Map<String, String[]> ref = Sd15LayoutTest.reference();
        Map<String, PlannedWeights.Planned> tiny = SdModel.plan(EaselTiny.config()).keys();
        Map<String, PlannedWeights.Planned> sd15 = SdModel.plan(SdModelConfig.sd1()).keys();
        for (var e : tiny.entrySet()) {
            assertTrue(ref.containsKey(e.getKey()), "Easel Tiny has " + e.getKey() + ", SD 1.5 does not");
            assertEquals(Sd15LayoutTest.shape(ref.get(e.getKey())[0]).length, e.getValue().shape().length,
                    e.getKey());
        }
        for (String k : sd15.keySet()) {
            boolean deeperTextLayer = k.matches("cond_stage_model\\.transformer\\.text_model\\.encoder\\.layers\\."
                    + "([2-9]|1[01])\\..*");
            assertEquals(!deeperTextLayer, tiny.containsKey(k), k);
        }
        SdModelConfig c = EaselTiny.config();
        assertEquals("sd1", c.family());
        assertEquals(49408, c.text().vocabSize());
        assertEquals(77, c.text().maxPositions());
        assertEquals(8, c.vae().downsampleFactor());
    }
}
