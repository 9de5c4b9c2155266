package dev.easel.core.train.data;

/**
 * kohya's caption options of a subset.
 *
 * @param shuffle                 shuffle comma-separated tags
 * @param keepTokens              tags kept in place at the front
 * @param keepTokensSeparator     tags before this separator are kept in place (takes precedence)
 * @param dropoutRate             probability of an empty caption
 * @param dropoutEveryNEpochs     every N-th epoch (1-based) all captions are empty
 * @param tagDropoutRate          probability of dropping each free tag
 * @param prefix                  text put before the caption
 * @param suffix                  text put after the caption
 */
public record CaptionOptions(boolean shuffle, int keepTokens, String keepTokensSeparator, double dropoutRate,
                             int dropoutEveryNEpochs, double tagDropoutRate, String prefix, String suffix) {
    /** No processing. */
    public static CaptionOptions none() {
        return new CaptionOptions(false, 0, "", 0, 0, 0, "", "");
    }
}
