package iamcheck

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// SPEC 6: an alarm on overdue volumes, on the metric the report step
// publishes (namespace Snapper, the run's document: dimension Schedule
// only), notifying the report topic; the dashboard shows the coverage.
func TestOverdueVolumesAlarmAndDashboard(t *testing.T) {
	s := transformed(t)
	var alarms []resource
	for _, a := range s.ofType("AWS::CloudWatch::Alarm") {
		if a.Properties["MetricName"] == "OverdueVolumes" {
			alarms = append(alarms, a)
		}
	}
	require.Len(t, alarms, 1, "one alarm on OverdueVolumes")
	a := alarms[0]
	assert.Equal(t, "Snapper", a.Properties["Namespace"])
	assert.Equal(t, []any{map[string]any{"Name": "Schedule", "Value": map[string]any{"Ref": "ScheduleName"}}}, a.Properties["Dimensions"],
		"the run's figure: a Region dimension would need an alarm per region, an Account one does not exist")
	assert.Equal(t, "GreaterThanThreshold", a.Properties["ComparisonOperator"])
	assert.EqualValues(t, 0, a.Properties["Threshold"], "one overdue volume is enough")
	assert.Equal(t, "notBreaching", a.Properties["TreatMissingData"], "a run publishes once: the hours between runs are no breach")
	assert.Equal(t, []any{map[string]any{"Ref": "ReportTopic"}}, a.Properties["AlarmActions"])

	sub, _ := s.Resources["Dashboard"].Properties["DashboardBody"].(map[string]any)
	body, _ := sub["Fn::Sub"].(string)
	require.NotEmpty(t, body, "the dashboard body is a Fn::Sub string")
	// What CloudWatch receives must be JSON once the references are filled in.
	var dash struct {
		Widgets []struct {
			Properties struct {
				Metrics []json.RawMessage `json:"metrics"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	require.NoError(t, json.Unmarshal([]byte(regexp.MustCompile(`\$\{[^}]+\}`).ReplaceAllString(body, "x")), &dash))
	var metrics []string
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			metrics = append(metrics, string(m))
		}
	}
	shown := strings.Join(metrics, "\n")
	for _, want := range []string{`["Snapper","OverdueVolumes","Schedule","x"]`, `[".","OrphanedSnapshots",".","."]`, `MetricName=\"OverdueVolumes\"`} {
		assert.Contains(t, strings.ReplaceAll(shown, " ", ""), strings.ReplaceAll(want, " ", ""), "the dashboard shows %s", want)
	}
}
