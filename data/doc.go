// Package data reads datasets and augments them for self-supervised pre-training and
// segmentation, keeping track of where every view's pixels came from.
//
// The simplest use: open a dataset from a spec string and iterate batches.
//
//	ds, err := data.Open("synthetic", data.Options{})            // or voc:DIR, seg:DIR, folder:DIR, cutpaste:…
//	l, err := data.NewLoader(ds, data.DefaultSegTrain(64), data.LoaderConfig{Batch: 8, Seed: 1, Shuffle: true, DropLast: true})
//	defer l.Close()
//	b, err := l.Next() // b.Views[0]: [8,3,64,64] normalised; b.Labels: [8,64,64] class ids, 255 = ignore
//
// Pre-training uses a two-view task; each view carries its Geometry, so dense methods can
// pair feature-map cells of the two views:
//
//	l, err := data.NewLoader(ds, data.MoCoV2(64), cfg)
//	b, _ := l.Next()                                   // b.Views[0], b.Views[1]: the two views
//	m, _ := data.CellMatch(b.Geoms[0][i], data.Grid{H: 4, W: 4}, b.Geoms[1][i], data.Grid{H: 4, W: 4})
//	// m[c] is the view-2 cell covering view-1 cell c's centre, or −1
//
// PLR (patch-level rotation) is data.DefaultPLR(size): one view whose Grid×Grid patches are
// turned by k·90°, with b.Labels holding k per pixel. Evaluation is data.DefaultSegEval():
// whole images, b.Full holding the original-size masks for mIoU.
//
// # Specs
//
//	voc:DIR                    VOC2012 (+SBD): JPEGImages/, SegmentationClass[Aug]/,
//	                           ImageSets/Segmentation/{train_aug,train,val}.txt; 21 classes
//	seg:DIR                    images/, masks/ (index or palette PNG), classes.txt,
//	                           optional splits/{train,val}.txt (else a fixed 90/10 split)
//	folder:DIR                 every .jpg/.jpeg/.png below DIR; unlabelled
//	synthetic[:k=v,...]        procedural scenes; keys classes (2–8), size, n, val, seed, objects
//	cutpaste:objects=DIR,backgrounds=DIR[,size,n,val,seed,max]
//	                           PNG cut-outs in DIR/<category>/… pasted on photos
//
// Options.Split picks "train" or "val"; masks use 255 for ignore.
//
// # Augmentations
//
// A Step (RandomResizedCrop, HFlip, ColorJitter, RandomGrayscale, GaussianBlur, Solarize,
// Normalize, RandomScale, RandomCropPad, RandomScaleCrop, Resize, PatchRotation) changes a
// View and returns a Record of what it did (crop box in source coordinates, flip, factors,
// turns). Geometric steps compose the view's Geometry, an axis-aligned affine map from view
// to source coordinates, so the composition of any steps is exact. A Pipeline is a list of
// steps; ViewConfig builds the papers' view pipelines (MoCoV2View, SimCLRView, BYOLViews).
// The photometric functions follow torchvision's tensor implementations and are tested
// against them.
//
// # Determinism
//
// Every random choice for item i in epoch e comes from NewRNG(seed, e, i); the epoch's order
// from the seed and e. Batches are therefore independent of the number of workers, and a
// Loader started at a saved Position continues exactly where a run stopped.
//
// # Errors
//
// Bad input is an error, never a panic. A spec that cannot be opened is a *SpecError; a bad
// file (unreadable image, mask size ≠ image size, a label outside [0, classes) other than
// 255, a list entry without its files) is a *FileError naming the file. With
// Options.SkipBad a bad file is instead reported once through Options.Warn and counted
// (Skipped), and the loader uses the next sample in its place.
package data
