/**
 * Optimisers (AdamW, Lion, SGD with momentum) updating DJL arrays in place, gradient clipping, and learning-rate
 * schedules (diffusers' schedulers as kohya uses them, and AUTOMATIC1111's {@code lr:step} strings).
 */
package dev.easel.core.train.optim;
