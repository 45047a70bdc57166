// Package retrieval is the in-context (Hummingbird) dense retrieval evaluation of Balažević
// et al. 2023, "Towards In-context Scene Understanding", in the form NeCo (Pariza et al.
// 2024) reports it, after the open-hummingbird-eval implementation
// (github.com/vpariza/open-hummingbird-eval, hbird/hbird_eval.py). Nothing is trained:
//
//  1. Memory bank. Every cell of a train image's feature map is a patch; its key is its
//     L2-normalised feature vector, its value the label distribution of its footprint in
//     the mask (the fraction of each class among the labelled pixels whose position falls
//     in the cell: mask pixel (y, x) belongs to cell (⌊y·h/H⌋, ⌊x·w/W⌋)). With a bank size
//     below the number of train patches, each image contributes ⌊size / images⌋ patches,
//     chosen as Hummingbird does: a patch scores the sum, over the classes it holds, of the
//     number of the image's patches holding that class, times a uniform draw (seeded by
//     (Seed, image)), and the lowest scores are kept, which favours rare classes.
//  2. Each val patch's normalised feature finds its K nearest keys by cosine similarity
//     (exact search; ties to the lower bank index), and its label distribution is the
//     softmax over those K similarities divided by Temperature, applied to their values.
//  3. The distributions [classes, h, w] are upsampled bilinearly to the mask (half_pixel),
//     argmax gives the prediction, and one confusion matrix over the val split gives mIoU
//     (evaluate/metrics).
//
// Defaults are the published ones: K = 30 and Temperature = 0.02 (hbird_eval.py's
// n_neighbours and cross_attention's beta), and a bank of 10,240,000 patches (Hummingbird's
// full setting, 1024×10⁴), which at CPU scale holds every train patch.
//
// Deviations: pixels labelled 255 are left out of a patch's distribution (hbird_eval.py
// counts them as background), a patch with no labelled pixel is not put in the bank, and
// mIoU is evaluate's (no Hungarian matching of predicted to true classes: the Hummingbird
// code's matching picks the best-fitting permutation, usually the identity).
//
// The search splits the queries into pieces of a fixed size run on all CPUs; each query's
// result depends only on itself, so any GOMAXPROCS gives the same bits. Errors start with
// "retrieval:".
package retrieval
