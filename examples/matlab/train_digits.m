% Trains a residual network on the digit images; the blocks come from a helper file.
addpath('helpers');
imds = imageDatastore('digits', 'IncludeSubfolders', true, 'LabelSource', 'foldernames');
numClasses = numel(categories(imds.Labels));

layers3 = layerGraph(imageInputLayer([28 28 1], 'Name', 'input'));
[layers3, last] = residualBlock(layers3, 'input', 1, 16);
[layers3, last] = residualBlock(layers3, last, 2, 16);
head = [
    globalAveragePooling2dLayer('Name', 'gap')
    fullyConnectedLayer(numClasses, 'Name', 'fc')
    softmaxLayer('Name', 'softmax')
    classificationLayer('Name', 'output')];
layers3 = addLayers(layers3, head);
layers3 = connectLayers(layers3, last, 'gap');

try
    options = trainingOptions('sgdm', 'MaxEpochs', 4, 'Plots', 'training-progress');
catch
    options = trainingOptions('sgdm', 'MaxEpochs', 4);
end
[net, info] = trainNetwork(imds, layers3, options);
