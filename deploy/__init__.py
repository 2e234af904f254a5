"""What a trained network is for: classifying videos (`predict`), whole clips or streamed frame
by frame, from a training run's folder or an official checkpoint."""

TOP_CLASSES = 5  # how many classes a prediction lists, best first, unless asked for more or fewer
