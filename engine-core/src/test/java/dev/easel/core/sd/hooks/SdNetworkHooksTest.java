package dev.easel.core.sd.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.easel.api.model.Component;
import dev.easel.api.model.ModuleKind;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.training.TokenEmbedding;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.nn.Layer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What training methods do through the hooks: gradients reach exactly the parameters asked for. */
class SdNetworkHooksTest {
    private NDManager manager;
    private SdModel model;
    private SdNetworkHooks hooks;

    @BeforeEach
    void setUp() {
        manager = ParityFixtures.runtime().newManager();
        model = SdModel.random(RandomModels.tinyConfig(), 5, manager);
        hooks = new SdNetworkHooks(model, manager);
    }

    @AfterEach
    void tearDown() {
        model.close();
        manager.close();
    }

    private NDArray unetLoss(NDManager m, NDArray context) {
        NDArray x = new dev.easel.core.sd.sampling.NoiseSource(3).next(m, new Shape(1, 4, 8, 8));
        NDArray t = m.create(new long[] {500});
        return model.unet().forward(x, t, context).square().mean();
    }

    private static boolean hasGrad(NDArray a) {
        return a.hasGradient() && a.getGradient().abs().sum().getFloat() > 0;
    }

    @Test
    void modulesCarryBothNames() {
        List<NetworkModule> unet = hooks.modules(Component.UNET);
        NetworkModule toK = unet.stream().filter(m -> m.ldmName().endsWith("input_blocks.1.1.transformer_blocks.0"
                + ".attn2.to_k")).findFirst().orElseThrow();
        assertEquals("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k", toK.diffusersName());
        assertTrue(toK.projectsContext());
        assertEquals(ModuleKind.LINEAR, toK.kind());
        assertEquals("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k",
                AdapterApplier.kohyaName(toK));
        assertTrue(hooks.modules(Component.TEXT_ENCODER).stream().anyMatch(m -> m.diffusersName()
                .equals("text_model.encoder.layers.1.self_attn.q_proj")));
        assertTrue(hooks.modules(Component.VAE).stream().anyMatch(m -> m.diffusersName()
                .equals("decoder.up_blocks.0.upsamplers.0.conv")));
        assertTrue(hooks.modules(Component.TEXT_ENCODER_2).isEmpty());
    }

    @Test
    void gradientsReachExactlyTheSelectedBaseWeights() {
        List<NDArray> trained = hooks.trainBaseWeights(m -> m.ldmName().contains("attn2.to_k")
                || m.ldmName().endsWith("time_embed.0"));
        long toK = hooks.modules(Component.UNET).stream().filter(m -> m.ldmName().contains("attn2.to_k")).count();
        assertEquals(7, toK, "tiny UNet: transformers at both levels, in the middle and in all 4 output blocks");
        assertEquals(toK + 2, trained.size());
        try (NDManager step = manager.newSubManager();
             GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            hooks.setWorkManager(step);
            NDArray ctx = hooks.encodeText(List.of("a red circle"));
            gc.backward(unetLoss(step, ctx));
        }
        for (NDArray p : trained) {
            assertTrue(hasGrad(p), "selected parameter has a gradient");
        }
        for (Layer l : model.allLayers()) {
            boolean selected = l.ldmName().contains("attn2.to_k") || l.ldmName().endsWith("time_embed.0");
            if (!selected) {
                assertFalse(l.weight().hasGradient(), l.ldmName() + " must stay frozen");
            }
        }
    }

    @Test
    void wrappedModuleTrainsOnlyItsAdapter() {
        Layer target = model.unet().layers().stream().filter(l -> l.ldmName().endsWith("middle_block.1.proj_in"))
                .findFirst().orElseThrow();
        long out = target.weightShape()[0];
        long in = target.weightShape()[1];
        NDArray down = manager.randomNormal(new Shape(2, in, 1, 1)).mul(0.1f);
        NDArray up = manager.zeros(new Shape(out, 2, 1, 1));
        down.setRequiresGradient(true);
        up.setRequiresGradient(true);
        NDArray before;
        try (NDManager step = manager.newSubManager()) {
            before = unetLoss(step, step.ones(new Shape(1, 77, 32)));
            before.attach(manager);
        }
        AtomicInteger calls = new AtomicInteger();
        hooks.wrap(target, (x, base, training) -> {
            calls.incrementAndGet();
            NDArray lora = x.getNDArrayInternal().convolution(x, down, null, new Shape(1, 1), new Shape(0, 0),
                    new Shape(1, 1), 1).singletonOrThrow();
            lora = lora.getNDArrayInternal().convolution(lora, up, null, new Shape(1, 1), new Shape(0, 0),
                    new Shape(1, 1), 1).singletonOrThrow();
            return base.forward(x).add(lora);
        });
        assertThrows(IllegalStateException.class, () -> hooks.wrap(target, (x, b, t) -> x));
        try (NDManager step = manager.newSubManager();
             GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray loss = unetLoss(step, step.ones(new Shape(1, 77, 32)));
            assertEquals(before.getFloat(), loss.getFloat(), 0f, "an adapter with up = 0 changes nothing");
            gc.backward(loss);
        }
        assertEquals(1, calls.get());
        assertTrue(hasGrad(up));
        assertFalse(target.weight().hasGradient());
        NDArray norm = model.unet().layers().stream().filter(l -> l.kind() == ModuleKind.NORM).findFirst()
                .orElseThrow().weight();
        assertThrows(IllegalArgumentException.class, () -> hooks.wrap(model.unet().layers().stream()
                .filter(l -> l.weight() == norm).findFirst().orElseThrow(), (x, b, t) -> x));
    }

    @Test
    void addedTokensTrainOnlyTheirRows() {
        TokenEmbedding te = hooks.addToken("my-thing", 2, "cat");
        assertEquals(List.of("my-thing", "my-thing-1"), te.tokens());
        assertEquals(new Shape(2, 32), te.vectors().getShape());
        NDArray table = model.textEncoder().tokenEmbedding().weight();
        assertEquals(table.get(2368).getFloat(0), te.vectors().get(0).getFloat(0), 0f, "initialised from 'cat'");
        assertThrows(IllegalArgumentException.class, () -> hooks.addToken("cat", 1, "dog"));
        assertThrows(IllegalArgumentException.class, () -> hooks.addToken("my-thing", 1, "dog"));
        int[] ids = model.tokenizer().encode("a my-thing photo");
        assertEquals(List.of(320, 49408, 49409, 1125), java.util.Arrays.stream(ids).boxed().toList());
        float[] tableBefore = table.toFloatArray();
        try (NDManager step = manager.newSubManager();
             GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            hooks.setWorkManager(step);
            NDArray ctx = hooks.encodeText(List.of("a my-thing photo", "a cat"));
            assertEquals(new Shape(2, 77, 32), ctx.getShape());
            gc.backward(ctx.square().mean());
        }
        assertTrue(hasGrad(te.vectors()));
        assertFalse(table.hasGradient());
        assertEquals(java.util.Arrays.toString(tableBefore), java.util.Arrays.toString(table.toFloatArray()));
    }

    @Test
    void contextHooksSeeEveryCrossAttentionProjection() {
        List<String> seen = new ArrayList<>();
        NDArray plain;
        try (NDManager step = manager.newSubManager()) {
            plain = unetLoss(step, step.ones(new Shape(1, 77, 32)));
            plain.attach(manager);
        }
        hooks.onContext((projection, context) -> {
            seen.add(projection.ldmName());
            assertTrue(projection.projectsContext());
            return context.mul(2f);
        });
        try (NDManager step = manager.newSubManager()) {
            NDArray hooked = unetLoss(step, step.ones(new Shape(1, 77, 32)));
            assertTrue(Math.abs(hooked.getFloat() - plain.getFloat()) > 1e-6);
        }
        // 7 transformers, k and v each
        assertEquals(14, seen.size());
        assertEquals(hooks.modules(Component.UNET).stream().filter(NetworkModule::projectsContext).count(),
                seen.stream().distinct().count());
    }

    @Test
    void sd1HasNoTextProjectionAndNoVisionTower() {
        assertThrows(UnsupportedOperationException.class, () -> hooks.textFeatures(List.of("a")));
        assertThrows(UnsupportedOperationException.class, () -> hooks.imageFeatures(manager.zeros(new Shape(1, 3,
                8, 8))));
    }

    @Test
    void openClipTextFeaturesPoolAtTheFirstEos() {
        var tiny = RandomModels.tinyConfig();
        var text = new dev.easel.core.sd.model.TextEncoderConfig(true, 49408, 77, 32, 2, 2, 64, "gelu", 1e-5f, 16, 2,
                0);
        var config = new dev.easel.core.sd.model.SdModelConfig("sd2", tiny.unet(), tiny.vae(), text, tiny.schedule());
        try (NDManager m = ParityFixtures.runtime().newManager();
             SdModel sd2 = SdModel.random(config, 9, m)) {
            SdNetworkHooks h = new SdNetworkHooks(sd2, m);
            assertEquals(2, h.clipSkip(), "SD2 defaults to the penultimate layer");
            NDArray f = h.textFeatures(List.of("a cat", "a red circle"));
            assertEquals(new Shape(2, 16), f.getShape());
            // pooled row = final-LN hidden state at the EOS (position 3 for "a cat") times the projection
            NDArray ids = sd2.tokenIds(m, List.of("a cat"));
            NDArray hidden = sd2.textEncoder().encode(ids, 1);
            NDArray expected = hidden.get(0, 3).expandDims(0).matMul(sd2.textEncoder().textProjection());
            float diff = f.get(0).expandDims(0).sub(expected).abs().max().getFloat();
            assertTrue(diff < 1e-5, "diff " + diff + " " + f.get(0) + " vs " + expected);
            assertEquals(0L, ids.getLong(0, 4), "SD2 pads with 0");
        }
    }
}
