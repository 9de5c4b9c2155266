package dev.easel.core.train.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** kohya's caption processing ({@code BaseDataset.process_caption}): prefix/suffix, dropout, keep-tokens, shuffle. */
public final class Captions {
    private Captions() {
    }

    /**
     * The caption as trained at this use of the image.
     *
     * @param epoch 0-based epoch (kohya's every-n-epochs dropout counts from 1)
     * @param rng   the seeded generator of this image at this position
     */
    public static String process(String caption, CaptionOptions o, int epoch, Random rng) {
        String c = caption;
        if (!o.prefix().isEmpty()) {
            c = o.prefix() + " " + c;
        }
        if (!o.suffix().isEmpty()) {
            c = c + " " + o.suffix();
        }
        boolean drop = o.dropoutRate() > 0 && rng.nextDouble() < o.dropoutRate();
        drop |= o.dropoutEveryNEpochs() > 0 && (epoch + 1) % o.dropoutEveryNEpochs() == 0;
        if (drop) {
            return "";
        }
        if (!o.shuffle() && o.tagDropoutRate() <= 0) {
            return c;
        }
        List<String> fixed = new ArrayList<>();
        List<String> flex = new ArrayList<>();
        String sep = o.keepTokensSeparator();
        if (!sep.isEmpty() && c.contains(sep)) {
            int at = c.indexOf(sep);
            split(c.substring(0, at), fixed);
            split(c.substring(at + sep.length()), flex);
        } else {
            List<String> tokens = new ArrayList<>();
            for (String t : c.strip().split(",", -1)) {
                tokens.add(t.strip());
            }
            int keep = Math.min(o.keepTokens(), tokens.size());
            fixed.addAll(tokens.subList(0, keep));
            flex.addAll(tokens.subList(keep, tokens.size()));
        }
        if (o.tagDropoutRate() > 0) {
            List<String> kept = new ArrayList<>();
            for (String t : flex) {
                if (rng.nextDouble() >= o.tagDropoutRate()) {
                    kept.add(t);
                }
            }
            flex = kept;
        }
        if (o.shuffle()) {
            Collections.shuffle(flex, rng);
        }
        List<String> all = new ArrayList<>(fixed);
        all.addAll(flex);
        return String.join(", ", all);
    }

    private static void split(String part, List<String> into) {
        for (String t : part.split(",")) {
            if (!t.strip().isEmpty()) {
                into.add(t.strip());
            }
        }
    }
}
