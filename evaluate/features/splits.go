package features

// Splits extracts the train and val features with the same encoder and preparation
// (the dense probes read both).
func Splits(fo Options, trainSplit, valSplit string) (train, val *Set, err error) {
	if trainSplit == "" {
		trainSplit = "train"
	}
	if valSplit == "" {
		valSplit = "val"
	}
	fo.Split = trainSplit
	if train, err = Extract(fo); err != nil {
		return nil, nil, err
	}
	fo.Split = valSplit
	if val, err = Extract(fo); err != nil {
		return nil, nil, err
	}
	if train.C != val.C || len(train.Classes) != len(val.Classes) {
		return nil, nil, errorf("the train split has %d channels and %d classes, val %d and %d", train.C, len(train.Classes), val.C, len(val.Classes))
	}
	return train, val, nil
}
