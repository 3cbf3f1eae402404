package samtemplate

// Table is an AWS::DynamoDB::Table of the template, with the properties the
// local stack needs to create it in the local DynamoDB. Field names follow
// CloudFormation's, which are DynamoDB API's.
type Table struct {
	LogicalID string
	Name      string // TableName, else "<stack>-<logical id>" (what Ref resolves to locally)

	AttributeDefinitions []struct {
		AttributeName string `yaml:"AttributeName"`
		AttributeType string `yaml:"AttributeType"`
	} `yaml:"AttributeDefinitions"`
	KeySchema              []KeyElement `yaml:"KeySchema"`
	GlobalSecondaryIndexes []struct {
		IndexName  string       `yaml:"IndexName"`
		KeySchema  []KeyElement `yaml:"KeySchema"`
		Projection struct {
			ProjectionType   string   `yaml:"ProjectionType"`
			NonKeyAttributes []string `yaml:"NonKeyAttributes"`
		} `yaml:"Projection"`
	} `yaml:"GlobalSecondaryIndexes"`
	TimeToLiveSpecification struct {
		AttributeName string `yaml:"AttributeName"`
		Enabled       bool   `yaml:"Enabled"`
	} `yaml:"TimeToLiveSpecification"`
}

// KeyElement is one element of a key schema.
type KeyElement struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

// tables reads the template's DynamoDB tables. Their key properties must be
// literal (no intrinsics), as in any table definition.
func (d *doc) tables() ([]*Table, error) {
	var out []*Table
	for _, id := range d.sortedIDs("AWS::DynamoDB::Table") {
		r := d.resources[id]
		name, err := d.tableName(r)
		if err != nil {
			return nil, err
		}
		t := &Table{LogicalID: id, Name: name}
		if err := r.props.Decode(t); err != nil {
			return nil, d.errf(r.node, id, "Properties", "cannot read the table definition: %v", err)
		}
		t.LogicalID, t.Name = id, name
		if len(t.KeySchema) == 0 || len(t.AttributeDefinitions) == 0 {
			return nil, d.errf(r.node, id, "Properties.KeySchema", "a table needs KeySchema and AttributeDefinitions")
		}
		out = append(out, t)
	}
	return out, nil
}
