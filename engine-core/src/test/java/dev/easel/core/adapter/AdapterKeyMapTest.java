package dev.easel.core.adapter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Name mapping against the real SD1.5 key list (sd15-ldm-keys.txt, copied from sd-mecha's sd1-ldm config): every
 * module kohya trains by default, and every conv module it trains with conv_dim, maps onto an existing weight of the
 * right shape; plus the reference's naming vectors and the SD2/SDXL OpenCLIP and SDXL ldm-name cases.
 */
class AdapterKeyMapTest {
    static Map<String, String> shapes = new LinkedHashMap<>();
    static AdapterKeyMap sd1;

    @BeforeAll
    static void load() throws IOException {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                AdapterKeyMapTest.class.getResourceAsStream("sd15-ldm-keys.txt"), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    String[] f = line.split(" ");
                    shapes.put(f[0], f[1]);
                }
            }
        }
        sd1 = AdapterKeyMap.forModel(shapes.keySet());
    }

    /** kohya's default SD1 targets (networks/lora.py): Transformer2DModel linears/convs and CLIP attention/MLP. */
    static List<String> kohyaDefaultTargets() {
        List<String> names = new ArrayList<>();
        List<String> attentions = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 2; j++) {
                attentions.add("down_blocks_" + i + "_attentions_" + j);
            }
        }
        for (int i = 1; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                attentions.add("up_blocks_" + i + "_attentions_" + j);
            }
        }
        attentions.add("mid_block_attentions_0");
        for (String a : attentions) {
            names.add("lora_unet_" + a + "_proj_in");
            names.add("lora_unet_" + a + "_proj_out");
            for (String attn : List.of("attn1", "attn2")) {
                for (String p : List.of("to_q", "to_k", "to_v", "to_out_0")) {
                    names.add("lora_unet_" + a + "_transformer_blocks_0_" + attn + "_" + p);
                }
            }
            names.add("lora_unet_" + a + "_transformer_blocks_0_ff_net_0_proj");
            names.add("lora_unet_" + a + "_transformer_blocks_0_ff_net_2");
        }
        for (int l = 0; l < 12; l++) {
            for (String p : List.of("self_attn_q_proj", "self_attn_k_proj", "self_attn_v_proj", "self_attn_out_proj",
                    "mlp_fc1", "mlp_fc2")) {
                names.add("lora_te_text_model_encoder_layers_" + l + "_" + p);
            }
        }
        return names;
    }

    /** kohya's conv_dim targets: ResnetBlock2D, Downsample2D, Upsample2D children. */
    static List<String> kohyaConvTargets() {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 2; j++) {
                for (String c : List.of("conv1", "conv2", "time_emb_proj")) {
                    names.add("lora_unet_down_blocks_" + i + "_resnets_" + j + "_" + c);
                }
            }
            for (int j = 0; j < 3; j++) {
                for (String c : List.of("conv1", "conv2", "time_emb_proj", "conv_shortcut")) {
                    names.add("lora_unet_up_blocks_" + i + "_resnets_" + j + "_" + c);
                }
            }
        }
        names.add("lora_unet_down_blocks_1_resnets_0_conv_shortcut");
        names.add("lora_unet_down_blocks_2_resnets_0_conv_shortcut");
        for (int j = 0; j < 2; j++) {
            for (String c : List.of("conv1", "conv2", "time_emb_proj")) {
                names.add("lora_unet_mid_block_resnets_" + j + "_" + c);
            }
        }
        for (int i = 0; i < 3; i++) {
            names.add("lora_unet_down_blocks_" + i + "_downsamplers_0_conv");
            names.add("lora_unet_up_blocks_" + i + "_upsamplers_0_conv");
        }
        return names;
    }

    @Test
    void everyKohyaDefaultTargetOfSd1MapsOntoAWeight() {
        List<String> names = kohyaDefaultTargets();
        assertEquals(264, names.size());
        List<String> missing = new ArrayList<>();
        for (String n : names) {
            var t = sd1.resolve(n);
            if (t.isEmpty() || !shapes.containsKey(t.get().weightKey())) {
                missing.add(n);
            }
        }
        assertEquals(List.of(), missing);
    }

    @Test
    void everyKohyaConvTargetOfSd1MapsOntoAWeightOfItsKind() {
        List<String> missing = new ArrayList<>();
        for (String n : kohyaConvTargets()) {
            var t = sd1.resolve(n);
            if (t.isEmpty()) {
                missing.add(n);
                continue;
            }
            String shape = shapes.get(t.get().weightKey());
            boolean linear = n.endsWith("time_emb_proj");
            boolean conv1x1 = n.endsWith("conv_shortcut");
            if (linear ? shape.split(",").length != 2 : !shape.endsWith(conv1x1 ? ",1,1]" : ",3,3]")) {
                missing.add(n + " -> " + t.get().weightKey() + " " + shape);
            }
        }
        assertEquals(List.of(), missing);
    }

    @Test
    void referenceNamingVectors() {
        var t = sd1.resolve("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k").orElseThrow();
        assertEquals("model.diffusion_model.input_blocks.4.1.transformer_blocks.0.attn2.to_k.weight", t.weightKey());
        assertEquals("diffusion_model_input_blocks_4_1_transformer_blocks_0_attn2_to_k",
                AdapterKeyMap.a1111Name(t.weightKey()));
        assertEquals(t, sd1.resolve("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k").orElseThrow());
        assertEquals("diffusion_model_output_blocks_2_0_in_layers_2", AdapterKeyMap.a1111Name(
                sd1.resolve("lora_unet_up_blocks_0_resnets_2_conv1").orElseThrow().weightKey()));
        assertEquals("diffusion_model_middle_block_2_emb_layers_1", AdapterKeyMap.a1111Name(
                sd1.resolve("lora_unet_mid_block_resnets_1_time_emb_proj").orElseThrow().weightKey()));
        assertEquals("transformer_text_model_encoder_layers_11_mlp_fc2", AdapterKeyMap.a1111Name(
                sd1.resolve("lora_te_text_model_encoder_layers_11_mlp_fc2").orElseThrow().weightKey()));
        // The ldm-style spelling A1111 also accepts, kohya's SD1 upsampler at .1 behind the attention-free block 0.
        assertEquals(t, sd1.resolve("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k").orElseThrow());
        assertEquals("model.diffusion_model.output_blocks.2.1.conv.weight",
                sd1.resolve("lora_unet_up_blocks_0_upsamplers_0_conv").orElseThrow().weightKey());
        assertEquals("model.diffusion_model.output_blocks.5.2.conv.weight",
                sd1.resolve("lora_unet_up_blocks_1_upsamplers_0_conv").orElseThrow().weightKey());
    }

    @Test
    void peftDiffusersAndLycorisSpellings() {
        String q = "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight";
        for (String n : List.of("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
                "base_model.model.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q",
                "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_q_lora",
                "lycoris_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q",
                "lora_te1_text_model_encoder_layers_0_self_attn_q_proj")) {
            assertTrue(sd1.resolve(n).isPresent(), n);
        }
        assertEquals(q, sd1.resolve("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q").get().weightKey());
        assertEquals("model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_out.0.weight",
                sd1.resolve("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_out_lora")
                        .get().weightKey());
        assertEquals("cond_stage_model.transformer.text_model.encoder.layers.3.self_attn.k_proj.weight",
                sd1.resolve("text_encoder.text_model.encoder.layers.3.self_attn.to_k_lora").get().weightKey());
        assertFalse(sd1.resolve("lora_unet_down_blocks_9_attentions_0_proj_in").isPresent());
    }

    @Test
    void openClipQkvMapOntoThirdsOfInProj() {
        List<String> keys = List.of("cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight",
                "cond_stage_model.model.transformer.resblocks.0.attn.in_proj_bias",
                "cond_stage_model.model.transformer.resblocks.0.attn.out_proj.weight",
                "cond_stage_model.model.transformer.resblocks.0.mlp.c_fc.weight",
                "conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_weight",
                "conditioner.embedders.1.model.transformer.resblocks.31.mlp.c_proj.weight",
                "conditioner.embedders.0.transformer.text_model.encoder.layers.0.mlp.fc1.weight");
        AdapterKeyMap map = AdapterKeyMap.forModel(keys);
        AdapterTarget k = map.resolve("lora_te_text_model_encoder_layers_0_self_attn_k_proj").orElseThrow();
        assertEquals(keys.get(0), k.weightKey());
        assertEquals(1, k.part());
        assertEquals(3, k.parts());
        assertEquals(keys.get(3), map.resolve("lora_te_text_model_encoder_layers_0_mlp_fc1").get().weightKey());
        assertEquals(keys.get(2), map.resolve("text_encoder.text_model.encoder.layers.0.self_attn.out_proj").get()
                .weightKey());
        AdapterTarget v2 = map.resolve("lora_te2_text_model_encoder_layers_31_self_attn_v_proj").orElseThrow();
        assertEquals(keys.get(4), v2.weightKey());
        assertEquals(2, v2.part());
        assertEquals(keys.get(5), map.resolve("text_encoder_2.text_model.encoder.layers.31.mlp.fc2").get().weightKey());
        assertEquals(keys.get(6), map.resolve("lora_te1_text_model_encoder_layers_0_mlp_fc1").get().weightKey());
    }

    @Test
    void sdxlLdmNamesAndDiffusersLayoutCheckpoints() {
        String ldm = "model.diffusion_model.output_blocks.2.2.conv.weight";
        String attn = "model.diffusion_model.input_blocks.4.1.transformer_blocks.1.attn1.to_q.weight";
        AdapterKeyMap xl = AdapterKeyMap.forModel(List.of(ldm, attn));
        assertEquals(attn, xl.resolve("lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_q").get().weightKey());
        assertEquals(ldm, xl.resolve("lora_unet_up_blocks_0_upsamplers_0_conv").get().weightKey());
        // A diffusers-layout checkpoint takes the ldm spellings too (SDXL kohya files onto a diffusers folder).
        AdapterKeyMap diffusers = AdapterKeyMap.forModel(List.of(
                "unet.up_blocks.0.attentions.0.proj_in.weight", "unet.up_blocks.0.upsamplers.0.conv.weight",
                "unet.down_blocks.1.resnets.0.conv1.weight", "text_encoder_2.text_model.encoder.layers.0.mlp.fc1.weight"));
        assertEquals("unet.up_blocks.0.upsamplers.0.conv.weight",
                diffusers.resolve("lora_unet_output_blocks_2_2_conv").get().weightKey());
        assertEquals("unet.down_blocks.1.resnets.0.conv1.weight",
                diffusers.resolve("lora_unet_input_blocks_4_0_in_layers_2").get().weightKey());
        assertEquals("text_encoder_2.text_model.encoder.layers.0.mlp.fc1.weight",
                diffusers.resolve("lora_te2_text_model_encoder_layers_0_mlp_fc1").get().weightKey());
    }

    @Test
    void sd1AndSd2DiffusersLayoutCheckpoints() {
        // A diffusers folder of SD1 or SD2 (both carry the HF CLIP text-encoder layout there; SD2's linear proj_in
        // and proj_out differ in shape only): kohya names in either spelling, and PEFT paths, find its keys.
        List<String> keys = List.of("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.weight",
                "unet.down_blocks.1.resnets.0.conv1.weight", "unet.mid_block.attentions.0.proj_out.weight",
                "unet.up_blocks.0.upsamplers.0.conv.weight", "unet.up_blocks.3.attentions.2.proj_in.weight",
                "text_encoder.text_model.encoder.layers.11.mlp.fc2.weight",
                "text_encoder.text_model.encoder.layers.0.self_attn.q_proj.weight");
        AdapterKeyMap map = AdapterKeyMap.forModel(keys);
        Map<String, String> expected = new java.util.LinkedHashMap<>();
        expected.put("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", keys.get(0));
        expected.put("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", keys.get(0));
        expected.put("lora_unet_down_blocks_1_resnets_0_conv1", keys.get(1));
        expected.put("lora_unet_input_blocks_4_0_in_layers_2", keys.get(1));
        expected.put("lora_unet_mid_block_attentions_0_proj_out", keys.get(2));
        expected.put("lora_unet_up_blocks_0_upsamplers_0_conv", keys.get(3));
        expected.put("lora_unet_up_blocks_3_attentions_2_proj_in", keys.get(4));
        expected.put("lora_unet_output_blocks_11_1_proj_in", keys.get(4));
        expected.put("lora_te_text_model_encoder_layers_11_mlp_fc2", keys.get(5));
        expected.put("unet.mid_block.attentions.0.proj_out", keys.get(2));
        expected.put("text_encoder.text_model.encoder.layers.0.self_attn.q_proj", keys.get(6));
        expected.forEach((name, key) -> assertEquals(key, map.resolve(name).map(AdapterTarget::weightKey)
                .orElse("nothing"), name));
        assertFalse(map.resolve("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k").isPresent());
        assertFalse(map.resolve("lora_te_text_model_encoder_layers_12_mlp_fc2").isPresent());
    }

    @Test
    void unetNamesRoundTripOverTheWholeSd1Unet() {
        int n = 0;
        for (String key : shapes.keySet()) {
            if (key.startsWith("model.diffusion_model.") && key.endsWith(".weight")) {
                String p = key.substring("model.diffusion_model.".length(), key.length() - ".weight".length());
                String d = UnetNames.ldmToDiffusers(p);
                assertTrue(d != null, p);
                assertEquals(p, UnetNames.diffusersToLdm(d, i -> i > 0), d);
                n++;
            }
        }
        assertTrue(n > 300);
    }

    @Test
    void unetNamesFollowTheModelsOwnNumberOfResnetsPerLevel() {
        assertEquals(2, UnetNames.layersPerBlock(shapes.keySet()));
        // the stock tiny model (easel init-model --config tiny) has one resnet per level
        try (ai.djl.ndarray.NDManager m = dev.easel.core.sd.ParityFixtures.runtime().newManager()) {
            dev.easel.core.sd.model.SdModel model = dev.easel.core.sd.model.SdModel.random(
                    dev.easel.core.sd.model.RandomModels.tinyConfig(), 1, m);
            List<dev.easel.core.sd.nn.Layer> unet = model.allLayers().stream()
                    .filter(l -> l.component() == dev.easel.api.model.Component.UNET).toList();
            List<String> keys = new ArrayList<>();
            model.allLayers().forEach(l -> keys.add(l.ldmName() + ".weight"));
            assertEquals(1, UnetNames.layersPerBlock(keys));
            java.util.Set<Integer> upWithAttention = new java.util.HashSet<>();
            unet.stream().map(dev.easel.core.sd.nn.Layer::diffusersName)
                    .filter(d -> d.matches("up_blocks\\.\\d+\\.attentions\\..*"))
                    .forEach(d -> upWithAttention.add(Integer.parseInt(d.split("\\.")[1])));
            AdapterKeyMap map = AdapterKeyMap.forModel(keys);
            int n = 0;
            for (dev.easel.core.sd.nn.Layer l : unet) {
                String ldm = l.ldmName().substring("model.diffusion_model.".length());
                assertEquals(l.diffusersName(), UnetNames.ldmToDiffusers(ldm, 1), ldm);
                assertEquals(ldm, UnetNames.diffusersToLdm(l.diffusersName(), 1, upWithAttention::contains),
                        l.diffusersName());
                // what train-lora-kohya writes (kohya's diffusers spelling) lands on the right weight
                assertEquals(l.ldmName() + ".weight", map.resolve("lora_unet_" + KohyaNames.flatten(
                        l.diffusersName())).map(AdapterTarget::weightKey).orElse("nothing"), l.diffusersName());
                n++;
            }
            assertTrue(n > 50, "UNet layers: " + n);
            model.close();
        }
    }

    @Test
    void kohyaAndPeftNamesConvertBothWays() {
        // Reference vector 3, PEFT side.
        assertEquals("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k",
                AdapterNames.toPeft("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn2_to_k"));
        // kohya's SDXL names are ldm-spelled; PEFT's are diffusers paths.
        assertEquals("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q",
                AdapterNames.toPeft("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q"));
        assertEquals("lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q",
                AdapterNames.toKohya("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", true));
        assertEquals("lora_unet_down_blocks_1_attentions_0_transformer_blocks_0_attn1_to_q",
                AdapterNames.toKohya("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn1.to_q", false));
        assertEquals("lora_te2_text_model_encoder_layers_3_mlp_fc1",
                AdapterNames.toKohya("text_encoder_2.text_model.encoder.layers.3.mlp.fc1", true));
        assertEquals("lora_te1_text_model_encoder_layers_3_mlp_fc1",
                AdapterNames.toKohya("text_encoder.text_model.encoder.layers.3.mlp.fc1", true));
        assertEquals("text_encoder.text_model.encoder.layers.0.self_attn.q_proj",
                AdapterNames.toPeft("lora_te1_text_model_encoder_layers_0_self_attn_q_proj"));
        assertEquals("unet.mid_block.resnets.1.time_emb_proj",
                AdapterNames.toPeft("lora_unet_mid_block_resnets_1_time_emb_proj"));
        assertEquals("lora_unet_down_blocks_0_attentions_0_proj_in",
                AdapterNames.toKohya("lycoris_down_blocks_0_attentions_0_proj_in", false));
    }

    @Test
    void kohyaNamesUnflatten() {
        assertEquals("down_blocks.0.attentions.1.transformer_blocks.0.attn1.to_out.0",
                KohyaNames.unflatten("down_blocks_0_attentions_1_transformer_blocks_0_attn1_to_out_0"));
        assertEquals("mid_block.resnets.1.time_emb_proj", KohyaNames.unflatten("mid_block_resnets_1_time_emb_proj"));
        assertEquals("text_model.encoder.layers.11.self_attn.q_proj",
                KohyaNames.unflatten("text_model_encoder_layers_11_self_attn_q_proj"));
        assertEquals("input_blocks.4.1.transformer_blocks.0.ff.net.0.proj",
                KohyaNames.unflatten("input_blocks_4_1_transformer_blocks_0_ff_net_0_proj"));
    }
}
