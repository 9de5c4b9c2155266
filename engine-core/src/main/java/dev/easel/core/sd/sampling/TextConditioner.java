package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.runtime.TorchOwned;
import dev.easel.core.sd.clip.ClipTextEncoder;
import dev.easel.core.sd.tokenizer.ClipTokenizer;
import dev.easel.core.sd.tokenizer.TokenChunk;
import java.util.ArrayList;
import java.util.List;

/**
 * Prompt → cross-attention context the way AUTOMATIC1111 builds it: emphasis-weighted 75-token chunks, each encoded
 * separately (77 tokens), scaled by its token weights and rescaled to its original mean, concatenated along the
 * token axis ({@code [1, 77·chunks, width]}).
 */
public final class TextConditioner {
    private final ClipTokenizer tokenizer;
    private final ClipTextEncoder encoder;

    public TextConditioner(ClipTokenizer tokenizer, ClipTextEncoder encoder) {
        this.tokenizer = tokenizer;
        this.encoder = encoder;
    }

    /** Context of one prompt with at least {@code minChunks} chunks (padded with empty-prompt chunks). */
    public NDArray encode(NDManager m, String prompt, int clipSkip, int minChunks) {
        List<TokenChunk> chunks = new ArrayList<>(tokenizer.chunks(prompt));
        while (chunks.size() < minChunks) {
            chunks.add(tokenizer.chunks("").get(0));
        }
        List<NDArray> parts = new ArrayList<>();
        for (TokenChunk c : chunks) {
            long[] ids = new long[c.ids().length];
            boolean weighted = false;
            for (int i = 0; i < ids.length; i++) {
                ids[i] = c.ids()[i];
                weighted |= c.weights()[i] != 1f;
            }
            NDArray z = encoder.encode(m.create(ids, new Shape(1, ids.length)), clipSkip);
            if (weighted) {
                NDArray originalMean = z.mean();
                z = z.mul(TorchOwned.create(m, c.weights(), new Shape(1, c.weights().length, 1)));
                NDArray newMean = z.mean();
                z = z.mul(originalMean.div(newMean));
            }
            parts.add(z);
        }
        return parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts.toArray(new NDArray[0])), 1);
    }

    /** Number of 75-token chunks of a prompt. */
    public int chunkCount(String prompt) {
        return tokenizer.chunks(prompt).size();
    }
}
