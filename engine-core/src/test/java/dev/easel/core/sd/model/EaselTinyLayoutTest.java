package dev.easel.core.sd.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Easel Tiny has SD 1.5's key layout: every key it has is an SD 1.5 key of the same rank, and it has every SD 1.5 key
 * except the text encoder's deeper layers and the 1x1 shortcut convs that ldm builds only where a block changes width
 * (SD 1.5's widths 320/640/1280/1280 change at two UNet levels and two VAE levels, Easel Tiny's at one of each).
 */
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
        java.util.List<String> shortcuts = new java.util.ArrayList<>();
        for (String k : sd15.keySet()) {
            boolean deeperTextLayer = k.matches("cond_stage_model\\.transformer\\.text_model\\.encoder\\.layers\\."
                    + "([2-9]|1[01])\\..*");
            if (!deeperTextLayer && !tiny.containsKey(k)) {
                shortcuts.add(k);
            }
            if (deeperTextLayer) {
                assertTrue(!tiny.containsKey(k), k);
            }
        }
        // the shortcut convs of the blocks whose width stays the same here: UNet input block 7 (level 2's first
        // resnet), the VAE encoder's level-1 first resnet and the decoder's level-0 first resnet (which takes
        // level 1's width)
        assertEquals(java.util.List.of(
                "first_stage_model.decoder.up.0.block.0.nin_shortcut.bias",
                "first_stage_model.decoder.up.0.block.0.nin_shortcut.weight",
                "first_stage_model.encoder.down.1.block.0.nin_shortcut.bias",
                "first_stage_model.encoder.down.1.block.0.nin_shortcut.weight",
                "model.diffusion_model.input_blocks.7.0.skip_connection.bias",
                "model.diffusion_model.input_blocks.7.0.skip_connection.weight"),
                shortcuts.stream().sorted().toList());
        SdModelConfig c = EaselTiny.config();
        assertEquals("sd1", c.family());
        assertEquals(49408, c.text().vocabSize());
        assertEquals(77, c.text().maxPositions());
        assertEquals(8, c.vae().downsampleFactor());
    }
}
