package dev.easel.core.sd.hooks;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.Component;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.training.ConditioningHook;
import dev.easel.api.training.ContextHook;
import dev.easel.api.training.GuidanceHook;
import dev.easel.api.training.ModuleWrapper;
import dev.easel.api.training.NetworkHooks;
import dev.easel.api.training.TokenEmbedding;
import dev.easel.core.sd.embedding.EmbeddingFile;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.sampling.TextConditioner;
import dev.easel.core.sd.tokenizer.ClipBpe;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * {@link NetworkHooks} over an {@link SdModel}: what training methods attach to. Arrays a call creates (token ids,
 * activations) live in the current work manager ({@link #setWorkManager}); the training loop sets one per step and
 * closes it after the optimiser step, so activations never pile up in the model's manager.
 */
public final class SdNetworkHooks implements NetworkHooks {
    private final SdModel model;
    private final TextConditioner conditioner;
    private final Map<NetworkModule, Layer> owned = new IdentityHashMap<>();
    private final List<GuidanceHook> guidance = new CopyOnWriteArrayList<>();
    private final List<ConditioningHook> conditioning = new CopyOnWriteArrayList<>();
    private final List<TokenEmbedding> tokens = new CopyOnWriteArrayList<>();
    private volatile NDManager work;
    private volatile int clipSkip;

    public SdNetworkHooks(SdModel model, NDManager work) {
        this.model = model;
        this.work = work;
        this.conditioner = new TextConditioner(model.tokenizer(), model.textEncoder());
        this.clipSkip = model.config().text().defaultClipSkip();
        for (Layer l : model.allLayers()) {
            owned.put(l, l);
        }
    }

    public SdModel model() {
        return model;
    }

    /** The manager new arrays go to. */
    public void setWorkManager(NDManager manager) {
        this.work = manager;
    }

    /** A1111's clip skip for {@link #encodeText} (default: the family's, 1 for SD1, 2 for SD2). */
    public void setClipSkip(int clipSkip) {
        this.clipSkip = clipSkip;
    }

    public int clipSkip() {
        return clipSkip;
    }

    @Override
    public List<NetworkModule> modules(Component component) {
        return Collections.unmodifiableList(new ArrayList<>(model.layers(component)));
    }

    /** The engine's layer behind a module handle. */
    public Layer layerOf(NetworkModule module) {
        return layer(module);
    }

    private Layer layer(NetworkModule module) {
        Layer l = owned.get(module);
        if (l == null) {
            throw new IllegalArgumentException(module.ldmName() + " is not a module of this model");
        }
        return l;
    }

    @Override
    public void wrap(NetworkModule module, ModuleWrapper wrapper) {
        layer(module).wrap(wrapper);
    }

    /** Removes the wrapper of a module (a job that ends, or an adapter unloaded before sampling). */
    public void unwrap(NetworkModule module) {
        layer(module).wrap(null);
    }

    @Override
    public List<NDArray> trainBaseWeights(Predicate<NetworkModule> selection) {
        List<NDArray> out = new ArrayList<>();
        for (Layer l : model.allLayers()) {
            if (selection.test(l)) {
                out.addAll(l.trainable());
            }
        }
        return out;
    }

    @Override
    public synchronized TokenEmbedding addToken(String name, int vectors, String initText) {
        if (vectors < 1) {
            throw new IllegalArgumentException("an embedding needs at least one vector");
        }
        if (model.tokenizer().isKnownWord(name)) {
            throw new IllegalArgumentException("'" + name + "' is already a token of the vocabulary; pick another name");
        }
        int[] init = model.tokenizer().encode(initText == null ? "" : initText);
        if (init.length == 0) {
            init = new int[] {model.tokenizer().bpe().id("*</w>")};
        }
        NDArray table = model.textEncoder().tokenEmbedding().weight();
        long[] rowIds = new long[vectors];
        for (int i = 0; i < vectors; i++) {
            rowIds[i] = init[i % init.length];
        }
        NDArray rows;
        try (NDManager tmp = model.manager().newSubManager()) {
            NDArray idx = tmp.create(rowIds);
            NDArray picked = table.get(idx);
            picked.attach(tmp);
            rows = picked.duplicate();
            rows.attach(model.manager());
        }
        rows.setRequiresGradient(true);
        int first = model.textEncoder().tokenEmbedding().addRows(rows);
        int[] ids = new int[vectors];
        List<String> names = new ArrayList<>();
        for (int i = 0; i < vectors; i++) {
            ids[i] = first + i;
            names.add(i == 0 ? name : name + "-" + i);
        }
        model.tokenizer().addWord(name, ids);
        TokenEmbedding te = new AddedToken(name, List.copyOf(names), rows);
        tokens.add(te);
        return te;
    }

    /**
     * Makes a loaded embedding's words stand for its vectors (frozen rows appended to the embedding table). As in
     * AUTOMATIC1111, an embedding named like a vocabulary word takes that word's place in prompts.
     *
     * @throws IllegalArgumentException if the vectors' width is not the text encoder's, or a word is not one word
     */
    public synchronized void addEmbedding(EmbeddingFile embedding) {
        long width = model.textEncoder().tokenEmbedding().weightShape()[1];
        if (embedding.width() != width) {
            throw new IllegalArgumentException(embedding.file() + ": embedding '" + embedding.name() + "' has vectors"
                    + " of width " + embedding.width() + ", this model's text encoder has " + width + " ("
                    + widthHint(embedding.width()) + ")");
        }
        for (String w : embedding.words()) {
            if (w.isBlank() || w.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException(embedding.file() + ": the word '" + w + "' has spaces; rename the"
                        + " file to one word");
            }
        }
        NDArray rows = model.manager().create(embedding.vectors(),
                new Shape(embedding.rows(), embedding.width()));
        int first = model.textEncoder().tokenEmbedding().addRows(rows);
        int[] ids = new int[embedding.rows()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = first + i;
        }
        for (String w : embedding.words()) {
            model.tokenizer().addWord(w, ids);
        }
    }

    private static String widthHint(int width) {
        return switch (width) {
            case 768 -> "768 is SD1's";
            case 1024 -> "1024 is SD2's";
            case 1280 -> "1280 is SDXL's CLIP-G";
            default -> "made for another model";
        };
    }

    /** Tokens added so far. */
    public List<TokenEmbedding> addedTokens() {
        return List.copyOf(tokens);
    }

    @Override
    public void onContext(ContextHook hook) {
        model.unet().addContextHook(hook);
    }

    @Override
    public void onGuidance(GuidanceHook hook) {
        guidance.add(hook);
    }

    @Override
    public void onConditioning(ConditioningHook hook) {
        conditioning.add(hook);
    }

    /** Guidance hooks for samplers. */
    public List<GuidanceHook> guidanceHooks() {
        return List.copyOf(guidance);
    }

    /** The conditioning of one prompt as sampling uses it: weighted chunks, then the conditioning hooks. */
    public NDArray condition(String prompt, int minChunks) {
        NDArray c = conditioner.encode(work, prompt, clipSkip, minChunks);
        for (ConditioningHook h : conditioning) {
            c = h.condition(prompt, c, this);
        }
        return c;
    }

    /** Chunks a prompt needs. */
    public int chunkCount(String prompt) {
        return conditioner.chunkCount(prompt);
    }

    @Override
    public NDArray encodeText(List<String> prompts) {
        int chunks = prompts.stream().mapToInt(conditioner::chunkCount).max().orElse(1);
        List<NDArray> rows = new ArrayList<>();
        for (String p : prompts) {
            rows.add(conditioner.encode(work, p, clipSkip, chunks));
        }
        return rows.size() == 1 ? rows.get(0) : NDArrays.concat(new NDList(rows.toArray(new NDArray[0])), 0);
    }

    @Override
    public NDArray textFeatures(List<String> prompts) {
        if (model.textEncoder().textProjection() == null) {
            throw new UnsupportedOperationException("this model's text encoder (" + model.config().family()
                    + ") has no text projection in its checkpoint");
        }
        return model.textEncoder().pooled(model.tokenIds(work, prompts), ClipBpe.EOS);
    }

    @Override
    public NDArray imageFeatures(NDArray images) {
        throw new UnsupportedOperationException("no CLIP vision model is configured; SD checkpoints do not contain one");
    }

    private record AddedToken(String name, List<String> tokens, NDArray vectors) implements TokenEmbedding {
    }

}
