// Package linear is the linear segmentation probe (DINO, Leopart and NeCo's "linear"
// protocol): the encoder is frozen, its dense features over the train and val splits are
// computed once (evaluate/features), and a 1×1 convolution with BatchNorm is trained on them;
// its logits are upsampled bilinearly to each mask's size and scored by mIoU.
//
//	res, err := linear.Evaluate(ctx, linear.Options{
//		Features: features.Options{Encoder: "run/encoder.onnx", Data: "synthetic", Size: 64},
//		Seed:     1,
//	})
//	fmt.Print(res.Scores.Table(res.Classes))
//
// # The probe
//
//   - BatchNorm, as in the papers, normalises each feature channel — here with the mean and
//     variance of that channel over every position of every cached train image (eps 1e-5),
//     which is what BatchNorm's running statistics converge to. Fixed statistics make the
//     probe a convex problem (softmax regression), so "trained to convergence" has a meaning
//     and the result does not depend on batch composition. BN's affine scale and shift are
//     folded into the 1×1 convolution, which is affine already.
//   - The loss is pixel-wise softmax cross-entropy at mask resolution: the logits at the
//     feature map's size are upsampled bilinearly (half_pixel, evaluate.ResizeBilinear) to
//     the mask and compared there, as DINO and Leopart do; label 255 is ignored. The mean is
//     over the labelled pixels of a mini-batch of images.
//   - Adam (β 0.9, 0.999), weights and biases from zero, a cosine learning-rate decay to 0
//     over Epochs passes; the image order of each epoch is a permutation drawn from (Seed,
//     epoch). Per-image gradients are computed on all CPUs and summed in image order, so the
//     same seed gives the same bits for any GOMAXPROCS.
//   - Scoring is evaluate's protocol: logits upsampled to the original mask, argmax (ties to
//     the lowest class), one confusion matrix over the val split (evaluate/metrics).
//
// Errors start with "linear:".
package linear
