package dev.easel.core.sd.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CLIP tokenizer of a model family: openai/CLIP's cleaning, pre-tokenising regex and BPE, framed with BOS/EOS to 77
 * tokens and padded as the family's checkpoints were trained (SD1 with EOS 49407, SD2's OpenCLIP with 0). Long
 * prompts are split into 75-token chunks the way AUTOMATIC1111 does (backing up to the last comma within 20
 * tokens), with its emphasis syntax giving per-token weights.
 *
 * <p>Words added for a training job ({@link #addWord}) are recognised before BPE, so a textual-inversion name such as
 * {@code my-concept} stays one unit instead of splitting at the hyphen.
 */
public final class ClipTokenizer {
    /** Prompt tokens per chunk (77 minus BOS and EOS). */
    public static final int CHUNK = 75;
    /** Sequence length the encoder reads. */
    public static final int CONTEXT = 77;
    private static final int COMMA_BACKTRACK = 20;
    private static final Pattern PIECES = Pattern.compile(
            "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+",
            Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

    private final ClipBpe bpe;
    private final int padId;
    private final int commaId;
    private final Map<String, int[]> addedWords = new java.util.concurrent.ConcurrentHashMap<>();

    public ClipTokenizer(ClipBpe bpe, int padId) {
        this.bpe = bpe;
        this.padId = padId;
        this.commaId = bpe.id(",</w>");
    }

    /** SD1.x: pads with {@code <|endoftext|>}. */
    public static ClipTokenizer sd1() {
        return new ClipTokenizer(ClipBpe.bundled(), ClipBpe.EOS);
    }

    /** SD2.x (OpenCLIP): pads with 0. */
    public static ClipTokenizer sd2() {
        return new ClipTokenizer(ClipBpe.bundled(), 0);
    }

    public ClipBpe bpe() {
        return bpe;
    }

    public int padId() {
        return padId;
    }

    /** Makes {@code word} (matched case-insensitively as a whole word) stand for {@code ids}. */
    public synchronized void addWord(String word, int[] ids) {
        String key = TextCleaner.clean(word);
        if (key.isEmpty() || key.contains(" ")) {
            throw new IllegalArgumentException("an added word must be one word without spaces: '" + word + "'");
        }
        addedWords.put(key, ids.clone());
    }

    /** Whether {@code word} is an added word or a single token of the vocabulary. */
    public boolean isKnownWord(String word) {
        String key = TextCleaner.clean(word);
        return addedWords.containsKey(key) || bpe.id(key + "</w>") >= 0;
    }

    /** BPE ids of a text, no BOS/EOS/padding. */
    public int[] encode(String text) {
        String clean = TextCleaner.clean(text);
        List<int[]> out = new ArrayList<>();
        encodeInto(clean, out);
        return out.stream().flatMapToInt(Arrays::stream).toArray();
    }

    private void encodeInto(String clean, List<int[]> out) {
        if (!addedWords.isEmpty()) {
            List<String> words = new ArrayList<>(addedWords.keySet());
            words.sort(Comparator.comparingInt(String::length).reversed());
            for (String w : words) {
                int at = findWord(clean, w);
                if (at >= 0) {
                    encodeInto(clean.substring(0, at), out);
                    out.add(addedWords.get(w));
                    encodeInto(clean.substring(at + w.length()), out);
                    return;
                }
            }
        }
        Matcher m = PIECES.matcher(clean);
        while (m.find()) {
            out.add(bpe.encodePiece(m.group()));
        }
    }

    private static int findWord(String text, String word) {
        int from = 0;
        while (true) {
            int at = text.indexOf(word, from);
            if (at < 0) {
                return -1;
            }
            int end = at + word.length();
            boolean startOk = at == 0 || !Character.isLetterOrDigit(text.charAt(at - 1));
            boolean endOk = end == text.length() || !Character.isLetterOrDigit(text.charAt(end));
            if (startOk && endOk) {
                return at;
            }
            from = at + 1;
        }
    }

    /** {@code [BOS] + ids + [EOS]} padded to 77 (truncated keeping EOS last, as the reference does). */
    public int[] frame(int[] ids) {
        int[] out = new int[CONTEXT];
        Arrays.fill(out, padId);
        out[0] = ClipBpe.BOS;
        int n = Math.min(ids.length, CONTEXT - 2);
        System.arraycopy(ids, 0, out, 1, n);
        out[n + 1] = ClipBpe.EOS;
        return out;
    }

    /** The 77 ids of a plain prompt (no emphasis parsing, truncated beyond 75 tokens). */
    public int[] tokenize(String text) {
        return frame(encode(text));
    }

    /**
     * A1111 prompt → chunks of 77 ids with weights: emphasis parsed, {@code BREAK} honoured, at least one chunk
     * (the empty prompt is one chunk of BOS, EOS, padding).
     */
    public List<TokenChunk> chunks(String prompt) {
        List<TokenChunk> chunks = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        List<Float> weights = new ArrayList<>();
        int lastComma = -1;
        for (PromptParser.Fragment f : PromptParser.parse(prompt)) {
            if (f.isBreak()) {
                chunks.add(close(ids, weights));
                ids.clear();
                weights.clear();
                lastComma = -1;
                continue;
            }
            int[] tokens = encode(f.text());
            for (int t : tokens) {
                if (t == commaId) {
                    lastComma = ids.size();
                } else if (ids.size() == CHUNK && lastComma >= 0 && ids.size() - lastComma <= COMMA_BACKTRACK) {
                    // A1111 moves the words after the last comma to the next chunk instead of cutting a phrase.
                    List<Integer> restIds = new ArrayList<>(ids.subList(lastComma + 1, ids.size()));
                    List<Float> restW = new ArrayList<>(weights.subList(lastComma + 1, weights.size()));
                    chunks.add(close(new ArrayList<>(ids.subList(0, lastComma + 1)),
                            new ArrayList<>(weights.subList(0, lastComma + 1))));
                    ids = restIds;
                    weights = restW;
                    lastComma = -1;
                }
                if (ids.size() == CHUNK) {
                    chunks.add(close(ids, weights));
                    ids = new ArrayList<>();
                    weights = new ArrayList<>();
                    lastComma = -1;
                    if (t == commaId) {
                        lastComma = 0;
                    }
                }
                ids.add(t);
                weights.add((float) f.weight());
            }
        }
        if (!ids.isEmpty() || chunks.isEmpty()) {
            chunks.add(close(ids, weights));
        }
        return chunks;
    }

    private TokenChunk close(List<Integer> ids, List<Float> weights) {
        // A1111 pads with EOS and replaces what follows the first EOS by the family's pad id: the same as framing.
        int[] out = frame(ids.stream().mapToInt(Integer::intValue).toArray());
        float[] w = new float[CONTEXT];
        Arrays.fill(w, 1f);
        for (int i = 0; i < weights.size(); i++) {
            w[i + 1] = weights.get(i);
        }
        return new TokenChunk(out, w);
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "ClipTokenizer(pad=%d, added=%d)", padId, addedWords.size());
    }
}
