package s3

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The SDK's flexible checksums are on only where S3 requires them unless
// the environment says otherwise (many S3-compatible stores reject them).
// LoadDefaultConfig resolves an unset setting to WhenSupported, so this
// checks what the client actually uses.
func TestChecksumSettings(t *testing.T) {
	t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "")
	t.Setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "")
	b, err := New(t.Context(), Config{Bucket: "b", Endpoint: "http://127.0.0.1:1", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if o := b.client.Options(); o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenRequired ||
		o.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenRequired {
		t.Fatalf("default: request %v, response %v; want WhenRequired for both",
			o.RequestChecksumCalculation, o.ResponseChecksumValidation)
	}

	t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", "when_supported")
	t.Setenv("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_supported")
	b, err = New(t.Context(), Config{Bucket: "b", Endpoint: "http://127.0.0.1:1", Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if o := b.client.Options(); o.RequestChecksumCalculation != aws.RequestChecksumCalculationWhenSupported ||
		o.ResponseChecksumValidation != aws.ResponseChecksumValidationWhenSupported {
		t.Fatalf("from the environment: request %v, response %v; want WhenSupported for both",
			o.RequestChecksumCalculation, o.ResponseChecksumValidation)
	}
}
