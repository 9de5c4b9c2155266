package dev.easel.core.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.model.SdDetector;
import dev.easel.core.model.SdFamily;
import dev.easel.core.model.SdLayout;
import dev.easel.core.model.SdModelInfo;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LdmDiffusersMappingTest {
    @Test
    void everyRealSd15KeyHasADiffusersName() throws IOException {
        List<TensorInfo> keys = Sd15Models.realKeys();
        LdmDiffusersMapping.Conversion c = LdmDiffusersMapping.toDiffusers(keys, SdFamily.SD1);
        // Only EMA copies and the 12 schedule buffers have no diffusers counterpart.
        assertTrue(c.dropped().stream().allMatch(k -> k.startsWith("model_ema.") || !k.contains(".")), c.dropped().toString());
        assertEquals(688 + 12, c.dropped().size());
        Map<String, String> names = new HashMap<>();
        Set<String> outs = new HashSet<>();
        for (TensorRecipe r : c.recipes()) {
            names.put(r.parts().get(0).source(), r.out().name());
            assertTrue(outs.add(r.out().name()), "two keys map to " + r.out().name());
        }
        assertEquals(686, names.keySet().stream().filter(k -> k.startsWith("model.diffusion_model.")).count());
        Map<String, String> known = Map.of(
                "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight",
                "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                "model.diffusion_model.input_blocks.4.0.skip_connection.weight",
                "unet.down_blocks.1.resnets.0.conv_shortcut.weight",
                "model.diffusion_model.input_blocks.9.0.op.weight", "unet.down_blocks.2.downsamplers.0.conv.weight",
                "model.diffusion_model.middle_block.2.emb_layers.1.bias", "unet.mid_block.resnets.1.time_emb_proj.bias",
                "model.diffusion_model.output_blocks.2.1.conv.weight", "unet.up_blocks.0.upsamplers.0.conv.weight",
                "model.diffusion_model.output_blocks.8.2.conv.bias", "unet.up_blocks.2.upsamplers.0.conv.bias",
                "model.diffusion_model.output_blocks.11.1.proj_out.weight", "unet.up_blocks.3.attentions.2.proj_out.weight",
                "first_stage_model.decoder.up.3.block.2.conv2.weight", "vae.decoder.up_blocks.0.resnets.2.conv2.weight",
                "first_stage_model.encoder.mid.attn_1.proj_out.weight", "vae.encoder.mid_block.attentions.0.to_out.0.weight",
                "cond_stage_model.transformer.text_model.final_layer_norm.bias",
                "text_encoder.text_model.final_layer_norm.bias");
        known.forEach((ldm, hf) -> assertEquals(hf, names.get(ldm), ldm));
        TensorRecipe q = c.recipes().stream().filter(r -> r.out().name().equals("vae.decoder.mid_block.attentions.0.to_q.weight"))
                .findFirst().orElseThrow();
        assertEquals(List.of(512L, 512L), java.util.Arrays.stream(q.out().shape()).boxed().toList());

        // And back: the names and shapes are exactly the ones we started from.
        List<TensorInfo> hf = c.recipes().stream().map(TensorRecipe::out).toList();
        LdmDiffusersMapping.Conversion back = LdmDiffusersMapping.toLdm(hf, SdFamily.SD1);
        assertEquals(List.of(), back.dropped());
        Set<TensorInfo> original = new HashSet<>(keys);
        for (TensorRecipe r : back.recipes()) {
            assertTrue(original.contains(r.out()), r.out().toString());
        }
        assertEquals(c.recipes().size(), back.recipes().size());
    }

    @Test
    void openClipInProjSplitsAndJoins() throws IOException {
        List<TensorInfo> sd2 = Sd15Models.tinySd2();
        LdmDiffusersMapping.Conversion c = LdmDiffusersMapping.toDiffusers(sd2, SdFamily.SD2);
        TensorRecipe k = c.recipes().stream().filter(r -> r.out().name()
                .equals("text_encoder.text_model.encoder.layers.1.self_attn.k_proj.weight")).findFirst().orElseThrow();
        assertEquals(new TensorRecipe.Part("cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight", 64, 64),
                k.parts().get(0));
        TensorRecipe proj = c.recipes().stream().filter(r -> r.out().name().equals("text_encoder.text_projection.weight"))
                .findFirst().orElseThrow();
        assertTrue(proj.transpose());
        assertEquals(List.of(6L, 4L), java.util.Arrays.stream(proj.out().shape()).boxed().toList());
        LdmDiffusersMapping.Conversion back = LdmDiffusersMapping.toLdm(c.recipes().stream().map(TensorRecipe::out)
                .toList(), SdFamily.SD2);
        assertEquals(new HashSet<>(sd2.stream().filter(t -> t.name().contains(".")).toList()),
                new HashSet<>(back.recipes().stream().map(TensorRecipe::out).toList()));
    }

    @Test
    void detection() throws IOException {
        SdModelInfo sd1 = SdDetector.detect(Sd15Models.realKeys(), Map.of());
        assertEquals(SdFamily.SD1, sd1.family());
        assertEquals(SdLayout.LDM, sd1.layout());
        assertEquals(List.of("unet", "vae", "text_encoder"), sd1.components());
        assertTrue(sd1.ema());
        assertEquals(4, sd1.inChannels());
        assertEquals("epsilon", sd1.prediction());
        SdModelInfo sd2 = SdDetector.detect(Sd15Models.tinySd2(), Map.of());
        assertEquals(SdFamily.SD2, sd2.family());
        assertEquals("v_prediction?", sd2.prediction());
        assertEquals("epsilon", SdDetector.detect(Sd15Models.tinySd2(), Map.of("global_step", "875000")).prediction());
        assertTrue(SdDetector.detect(Sd15Models.tinySd1(false, 9), Map.of()).inpainting());
        List<TensorInfo> hf = LdmDiffusersMapping.toDiffusers(Sd15Models.realKeys(), SdFamily.SD1).recipes().stream()
                .map(TensorRecipe::out).toList();
        SdModelInfo diffusers = SdDetector.detect(hf, Map.of());
        assertEquals(SdLayout.DIFFUSERS, diffusers.layout());
        assertEquals(SdFamily.SD1, diffusers.family());
        List<TensorInfo> xl = List.of(new TensorInfo("conditioner.embedders.1.model.ln_final.weight",
                dev.easel.api.tensor.DType.F16, 1280), new TensorInfo("model.diffusion_model.label_emb.0.0.weight",
                dev.easel.api.tensor.DType.F16, 1280, 2816));
        assertEquals(SdFamily.SDXL, SdDetector.detect(xl, Map.of()).family());
        assertThrows(IllegalArgumentException.class, () -> LdmDiffusersMapping.toDiffusers(xl, SdFamily.SDXL));
        assertEquals(SdFamily.UNKNOWN, SdDetector.detect(List.of(new TensorInfo("x", dev.easel.api.tensor.DType.F32, 1)),
                Map.of()).family());
    }
}
