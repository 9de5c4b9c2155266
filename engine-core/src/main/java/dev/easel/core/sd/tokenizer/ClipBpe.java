package dev.easel.core.sd.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.zip.GZIPInputStream;

/**
 * The byte-level BPE of openai/CLIP's {@code simple_tokenizer.py}: vocabulary, merge ranks and the per-word merge
 * loop, with the same cache. Ids are the ones every SD checkpoint's embedding table is indexed by.
 */
public final class ClipBpe {
    /** {@code <|startoftext|>}. */
    public static final int BOS = 49406;
    /** {@code <|endoftext|>}. */
    public static final int EOS = 49407;
    /** Merges the reference keeps: lines 1 .. 49152-256-2 of the vocabulary file. */
    private static final int MERGES = 49152 - 256 - 2;
    private static final String RESOURCE = "/dev/easel/core/sd/clip/bpe_simple_vocab_16e6.txt.gz";
    private static volatile ClipBpe bundled;

    private final Map<String, Integer> encoder;
    private final String[] decoder;
    private final Map<String, Integer> ranks;
    private final char[] byteEncoder = new char[256];
    private final Map<Character, Integer> byteDecoder = new HashMap<>();
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private ClipBpe(List<String[]> merges) {
        int[] bs = new int[256];
        int n = 0;
        for (int b = '!'; b <= '~'; b++) {
            bs[n++] = b;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs[n++] = b;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs[n++] = b;
        }
        boolean[] printable = new boolean[256];
        for (int i = 0; i < n; i++) {
            printable[bs[i]] = true;
            byteEncoder[bs[i]] = (char) bs[i];
        }
        int extra = 0;
        List<Character> order = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            order.add((char) bs[i]);
        }
        for (int b = 0; b < 256; b++) {
            if (!printable[b]) {
                byteEncoder[b] = (char) (256 + extra++);
                order.add(byteEncoder[b]);
            }
        }
        for (int b = 0; b < 256; b++) {
            byteDecoder.put(byteEncoder[b], b);
        }
        List<String> vocab = new ArrayList<>(49408);
        for (char c : order) {
            vocab.add(String.valueOf(c));
        }
        for (char c : order) {
            vocab.add(c + "</w>");
        }
        ranks = new HashMap<>(merges.size() * 2);
        for (int i = 0; i < merges.size(); i++) {
            String[] m = merges.get(i);
            vocab.add(m[0] + m[1]);
            ranks.put(m[0] + ' ' + m[1], i);
        }
        vocab.add("<|startoftext|>");
        vocab.add("<|endoftext|>");
        encoder = new HashMap<>(vocab.size() * 2);
        for (int i = 0; i < vocab.size(); i++) {
            encoder.put(vocab.get(i), i);
        }
        decoder = vocab.toArray(new String[0]);
    }

    /** The vocabulary shipped with Easel (openai/CLIP's {@code bpe_simple_vocab_16e6.txt.gz}, MIT). */
    public static ClipBpe bundled() {
        ClipBpe b = bundled;
        if (b == null) {
            synchronized (ClipBpe.class) {
                b = bundled;
                if (b == null) {
                    try (InputStream in = ClipBpe.class.getResourceAsStream(RESOURCE)) {
                        if (in == null) {
                            throw new IllegalStateException("CLIP vocabulary " + RESOURCE + " missing from the jar");
                        }
                        b = fromMerges(new GZIPInputStream(in));
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot read the bundled CLIP vocabulary", e);
                    }
                    bundled = b;
                }
            }
        }
        return b;
    }

    /**
     * Reads a merges file ({@code #version} header line, then "a b" pairs): openai's vocabulary file or a Hugging
     * Face {@code merges.txt}; both are cut to the same 48,894 merges.
     */
    public static ClipBpe fromMerges(InputStream in) throws IOException {
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        List<String[]> merges = new ArrayList<>(MERGES);
        String line = r.readLine();
        if (line == null) {
            throw new IOException("empty BPE merges file");
        }
        int lineNo = 1;
        while (merges.size() < MERGES && (line = r.readLine()) != null) {
            lineNo++;
            String[] pair = line.split(" ");
            if (pair.length != 2) {
                throw new IOException("BPE merges line " + lineNo + " is not a pair: '" + line + "'");
            }
            merges.add(pair);
        }
        if (merges.size() < MERGES) {
            throw new IOException("BPE merges file has " + merges.size() + " merges, CLIP needs " + MERGES);
        }
        return new ClipBpe(merges);
    }

    /**
     * A Hugging Face tokenizer folder ({@code tokenizer/} of a diffusers model): {@code merges.txt}, checked against
     * {@code vocab.json} when present (every entry must have the id CLIP's construction gives it, so a tokenizer
     * with other ids is refused instead of silently mis-encoding).
     */
    public static ClipBpe fromTokenizerFolder(java.nio.file.Path dir) throws IOException {
        java.nio.file.Path merges = dir.resolve("merges.txt");
        if (!java.nio.file.Files.isRegularFile(merges)) {
            throw new IOException(dir + ": no merges.txt (not a CLIP tokenizer folder)");
        }
        ClipBpe bpe;
        try (InputStream in = java.nio.file.Files.newInputStream(merges)) {
            bpe = fromMerges(in);
        } catch (IOException e) {
            throw new IOException(merges + ": " + e.getMessage(), e);
        }
        java.nio.file.Path vocab = dir.resolve("vocab.json");
        if (java.nio.file.Files.isRegularFile(vocab)) {
            com.fasterxml.jackson.databind.JsonNode v = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(vocab.toFile());
            if (!v.isObject() || v.size() != bpe.size()) {
                throw new IOException(vocab + ": has " + v.size() + " entries, CLIP's vocabulary has " + bpe.size());
            }
            var fields = v.fields();
            while (fields.hasNext()) {
                var e = fields.next();
                if (bpe.id(e.getKey()) != e.getValue().asInt(-1)) {
                    throw new IOException(vocab + ": token '" + e.getKey() + "' has id " + e.getValue().asText()
                            + ", CLIP's merges give " + bpe.id(e.getKey()));
                }
            }
        }
        return bpe;
    }

    /** Vocabulary size (49,408). */
    public int size() {
        return decoder.length;
    }

    /** The token string of an id ({@code a</w>}). */
    public String token(int id) {
        return decoder[id];
    }

    /** The id of a token string, or -1. */
    public int id(String token) {
        Integer i = encoder.get(token);
        return i == null ? -1 : i;
    }

    /** Ids of one pre-tokenised piece (its UTF-8 bytes mapped to byte characters, then merged). */
    public int[] encodePiece(String piece) {
        int[] hit = cache.get(piece);
        if (hit != null) {
            return hit;
        }
        byte[] utf8 = piece.getBytes(StandardCharsets.UTF_8);
        List<String> word = new ArrayList<>(utf8.length);
        for (int i = 0; i < utf8.length; i++) {
            String s = String.valueOf(byteEncoder[utf8[i] & 0xFF]);
            word.add(i == utf8.length - 1 ? s + "</w>" : s);
        }
        while (word.size() > 1) {
            int best = Integer.MAX_VALUE;
            String first = null;
            String second = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = ranks.get(word.get(i) + ' ' + word.get(i + 1));
                if (r != null && r < best) {
                    best = r;
                    first = word.get(i);
                    second = word.get(i + 1);
                }
            }
            if (first == null) {
                break;
            }
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); i++) {
                if (i + 1 < word.size() && word.get(i).equals(first) && word.get(i + 1).equals(second)) {
                    merged.add(first + second);
                    i++;
                } else {
                    merged.add(word.get(i));
                }
            }
            word = merged;
        }
        int[] ids = new int[word.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = encoder.get(word.get(i));
            if (id == null) {
                throw new IllegalStateException("BPE produced a symbol outside the vocabulary: " + word.get(i));
            }
            ids[i] = id;
        }
        if (cache.size() < 100_000) {
            cache.put(piece, ids);
        }
        return ids;
    }

    /** The text of ids, as the reference decodes it ({@code </w>} becomes a space). */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(decoder[id]);
        }
        String s = sb.toString();
        byte[] bytes = new byte[s.length()];
        int n = 0;
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            Integer b = byteDecoder.get(c);
            if (b == null) {
                out.append(new String(bytes, 0, n, StandardCharsets.UTF_8)).append(c);
                n = 0;
            } else {
                bytes[n++] = (byte) (int) b;
            }
        }
        out.append(new String(bytes, 0, n, StandardCharsets.UTF_8));
        return out.toString().replace("</w>", " ");
    }
}
